import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from '../errors.ts';

const run = promisify(execFile);

export interface Snapshot {
  /** A bare repository holding the snapshot as `refs/heads/<branch>`; it borrows the user's objects. */
  repo: string;
  branch: string;
  sha: string;
  /** The working tree's repository (its top level). */
  top: string;
  /** Points another ref of the snapshot repository (a pull request's, say) at the snapshot. */
  addRef(ref: string): Promise<void>;
}

const SAFE_BRANCH = /^[A-Za-z0-9._/-]{1,200}$/;

/**
 * Commits the working tree as it is (tracked changes, new files that .gitignore does not exclude),
 * without touching the user's index, refs or objects: the index is a temporary file and the new objects
 * go to a bare repository under `tmp` that borrows the user's objects through `alternates`.
 */
export async function snapshotWorkingTree(cwd: string, tmp: string): Promise<Snapshot> {
  const git = async (args: string[], env: Record<string, string> = {}, dir = cwd) =>
    (
      await run('git', args, {
        cwd: dir,
        env: { ...process.env, ...env, GIT_TERMINAL_PROMPT: '0' },
        maxBuffer: 16 * 1024 * 1024,
      })
    ).stdout.trim();
  let top: string;
  try {
    top = await git(['rev-parse', '--show-toplevel']);
  } catch {
    throw new ConfigError(`${cwd} is not in a git repository: pushci run builds the working tree of one`);
  }
  const objects = await git(['rev-parse', '--path-format=absolute', '--git-path', 'objects'], {}, top);
  const head = await git(['rev-parse', '--verify', '-q', 'HEAD^{commit}'], {}, top).catch(() => '');
  const current = await git(['symbolic-ref', '--short', '-q', 'HEAD'], {}, top).catch(() => '');
  const branch = SAFE_BRANCH.test(current) && !current.includes('..') ? current : 'local';

  const repo = join(tmp, 'snapshot.git');
  await git(['init', '-q', '--bare', repo], {}, tmp);
  await writeFile(join(repo, 'objects', 'info', 'alternates'), `${objects}\n`);
  const env = {
    GIT_INDEX_FILE: join(tmp, 'snapshot.index'),
    GIT_OBJECT_DIRECTORY: join(repo, 'objects'),
    GIT_ALTERNATE_OBJECT_DIRECTORIES: objects,
    // commit-tree needs an identity; a machine without user.name must still be able to run a pipeline.
    GIT_AUTHOR_NAME: process.env.GIT_AUTHOR_NAME ?? 'pushci run',
    GIT_AUTHOR_EMAIL: process.env.GIT_AUTHOR_EMAIL ?? 'pushci-run@localhost',
    GIT_COMMITTER_NAME: process.env.GIT_COMMITTER_NAME ?? 'pushci run',
    GIT_COMMITTER_EMAIL: process.env.GIT_COMMITTER_EMAIL ?? 'pushci-run@localhost',
  };
  if (head) await git(['read-tree', head], env, top);
  await git(['add', '-A', '--', '.'], env, top);
  const tree = await git(['write-tree'], env, top);
  const sha = await git(
    ['commit-tree', tree, ...(head ? ['-p', head] : []), '-m', 'pushci run: the working tree'],
    env,
    top,
  );
  const addRef = async (ref: string) => {
    await git(['--git-dir', repo, 'update-ref', ref, sha], {}, tmp);
  };
  await addRef(`refs/heads/${branch}`);
  return { repo, branch, sha, top, addRef };
}
