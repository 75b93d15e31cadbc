/** What a step's `uses:` names. */
export type ActionRef =
  | { kind: 'local'; /** Relative to the checkout, without `./`; '' for the checkout's root. */ path: string }
  | {
      kind: 'remote';
      owner: string;
      repo: string;
      /** Folder of the action inside the repository; '' for its root. */
      path: string;
      /** Branch, tag or commit as written. */
      ref: string;
    }
  | { kind: 'docker'; image: string };

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/;
const SEGMENT = /^[A-Za-z0-9_.+][A-Za-z0-9._+-]{0,199}$/;
const REF = /^[A-Za-z0-9_][A-Za-z0-9._/+-]{0,254}$/;

/** Why a folder path written in `uses:` is refused, or null. */
function pathProblem(path: string): string | null {
  if (path === '') return null;
  for (const s of path.split('/'))
    if (s === '..' || s === '.' || !SEGMENT.test(s))
      return `the folder "${path}" must be names of letters, digits, ".", "_", "-" separated by "/" (no "..", no leading "-")`;
  return null;
}

/**
 * Parses `uses:` strictly: every part later becomes a URL, a folder under the data dir or a git
 * argument, so anything that could read as an option (`--upload-pack=…`) or climb out (`..`) is
 * refused here. Returns the reference, or a message saying what is wrong.
 */
export function parseActionRef(uses: string): ActionRef | { problem: string } {
  const u = uses.trim();
  if (u.includes('${{'))
    return { problem: 'uses: cannot use ${{ }}: which action runs comes from the file only' };
  if (u.startsWith('docker://')) return { kind: 'docker', image: u.slice('docker://'.length) };
  if (u === '.' || u === './' || u.startsWith('./')) {
    const path = u.replace(/^\.\/?/, '').replace(/\/+$/, '');
    const problem = pathProblem(path);
    return problem ? { problem: `uses: ${problem}` } : { kind: 'local', path };
  }
  if (u.startsWith('../') || u.startsWith('/'))
    return { problem: `uses: "${u}": a local action is ./path, a folder inside the checkout` };
  const at = u.lastIndexOf('@');
  if (at < 0)
    return {
      problem: `uses: "${u}" needs a version: owner/repo@ref (a tag, branch or commit), or ./path for an action in this repository`,
    };
  const [owner = '', repo = '', ...rest] = u.slice(0, at).split('/');
  const ref = u.slice(at + 1);
  if (!NAME.test(owner) || !NAME.test(repo) || repo === '.' || repo === '..')
    return {
      problem: `uses: "${u}" is not owner/repo@ref or owner/repo/path@ref (owner and repository are letters, digits, ".", "_", "-")`,
    };
  if (
    !REF.test(ref) ||
    ref.includes('..') ||
    ref.includes('//') ||
    ref.endsWith('/') ||
    ref.endsWith('.lock') ||
    ref.includes('/.')
  )
    return {
      problem: `uses: "${ref}" is not a usable ref: a tag, branch or commit of letters, digits, ".", "_", "-", "/"`,
    };
  const path = rest.join('/');
  const problem = pathProblem(path);
  if (problem) return { problem: `uses: ${problem}` };
  return { kind: 'remote', owner, repo, path, ref };
}
