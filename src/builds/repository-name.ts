/**
 * Whether `name` is a repository path as forges spell them: `owner/name`, or deeper for GitLab
 * subgroups; each segment letters, digits, `.`, `_`, `-`, not starting with `-` or `.` (no option
 * injection, no `..`, no hidden names) and no `:` or `\` (so never a URL or a Windows path).
 */
export function isRepositoryName(name: unknown): name is string {
  if (typeof name !== 'string' || name.length > 255) return false;
  const segments = name.split('/');
  return (
    segments.length >= 2 &&
    segments.every((s) => /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(s) && !s.endsWith('.git'))
  );
}
