/** A commit id as forges and git write it: SHA-1 or SHA-256, lower-case hex. */
export const COMMIT_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * A job, step, service or input id, as GitHub Actions allows them: letters, digits, _ and -, starting
 * with a letter or _ (at most 100). Such ids become file names, variable names and URL segments.
 */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]{0,99}$/;
