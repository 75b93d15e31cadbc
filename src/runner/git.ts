import { execa } from 'execa';
import type { SpawnFn } from './spawner/start-spawner.ts';

/** Environment for every git command: never prompt, never read the worker's git credentials helpers' UI. */
export function gitEnv(base: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    SSH_ASKPASS: 'true',
    LC_ALL: 'C',
    // A replace ref in a mirror must never change what a checkout contains.
    GIT_NO_REPLACE_OBJECTS: '1',
  };
  for (const k of [
    'PATH',
    'HOME',
    'SSH_AUTH_SOCK',
    'GIT_SSH_COMMAND',
    'HTTPS_PROXY',
    'HTTP_PROXY',
    'NO_PROXY',
  ]) {
    const v = base[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

export class GitError extends Error {}

/**
 * Runs git with arguments (never a shell line), hooks and fsmonitor off. `redact` hides a URL that may
 * carry a token.
 */
export async function git(
  args: string[],
  opts: {
    cwd?: string;
    env: Record<string, string>;
    redact?: string;
    signal?: AbortSignal;
    /** Start git through this (the worker's spawner) instead of forking the worker. */
    spawn?: SpawnFn;
  },
): Promise<string> {
  // Hooks never run for pushci's own git calls, wherever a repository's config points them.
  const argv = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', ...args];
  const r = opts.spawn
    ? await collect(opts.spawn, argv, opts)
    : await execa('git', argv, {
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
        env: opts.env,
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        // Its own process group (execa's killDescendants): Ctrl-C in the worker's terminal (SIGINT to
        // the worker's group) is for the worker, which lets running jobs finish; it must not fail their
        // checkouts. Unlike \`detached\`, it keeps execa's cleanup (git ends when the worker exits at
        // once, and so no fetch holds a mirror's ref lock after it), and a cancel ends git's helpers
        // (remote-https, index-pack) with it.
        killDescendants: true,
        ...(opts.signal ? { cancelSignal: opts.signal } : {}),
      });
  if (r.exitCode !== 0) {
    // git says what went wrong on its fatal:/error: lines; the advice after them ("Please make sure you
    // have the correct access rights") is the same whatever the cause, so it goes last, if at all.
    const lines = String(r.stderr)
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const told = lines.filter((l) => /^(fatal|error):/.test(l));
    let msg = `git ${args[0]} failed: ${(told.length > 0 ? told : lines).slice(-3).join(' / ')}`;
    if (opts.redact) msg = msg.split(opts.redact).join('<clone-url>');
    throw new GitError(msg);
  }
  return String(r.stdout).trim();
}

/** git started by `spawn`, its output gathered; SIGTERM when `signal` aborts (as execa's cancelSignal). */
async function collect(
  spawn: SpawnFn,
  argv: string[],
  opts: { cwd?: string; env: Record<string, string>; signal?: AbortSignal },
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const p = await spawn('git', argv, {
    env: opts.env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  p.stdout?.on('data', (c: Buffer) => out.push(c));
  p.stderr?.on('data', (c: Buffer) => err.push(c));
  const abort = () => p.kill('SIGTERM');
  opts.signal?.addEventListener('abort', abort, { once: true });
  if (opts.signal?.aborted) abort();
  const exitCode = await new Promise<number | null>((resolve) => {
    let code: number | null = null;
    p.once('exit', (c: number | null) => (code = c));
    p.once('close', () => resolve(code));
    p.once('error', (e: Error) => {
      err.push(Buffer.from(e.message));
      resolve(null);
    });
  });
  opts.signal?.removeEventListener('abort', abort);
  return { exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

/** The commit a ref points at in a remote repository, or null when it has no such ref. */
export async function lsRemote(
  url: string,
  ref: string,
  env: Record<string, string>,
  signal?: AbortSignal,
): Promise<string | null> {
  // An annotated tag's ref names the tag object; `^{}` names the commit it tags, which is what builds.
  const out = await git(['ls-remote', '--', url, ref, `${ref}^{}`], {
    env,
    redact: url,
    ...(signal ? { signal } : {}),
  });
  const lines = out.split('\n');
  const line = lines.find((l) => l.endsWith(`\t${ref}^{}`)) ?? lines.find((l) => l.endsWith(`\t${ref}`));
  return line ? line.split('\t')[0]! : null;
}

/**
 * A repository's default branch, or null when it names none: the branch its `origin/HEAD` names when it
 * has one (a working copy, whose own HEAD is whatever is checked out, or detached), else the branch its
 * HEAD names (a forge, a bare mirror).
 */
export async function defaultBranch(url: string, env: Record<string, string>): Promise<string | null> {
  const out = await git(['ls-remote', '--symref', '--', url, 'HEAD', 'refs/remotes/origin/HEAD'], {
    env,
    redact: url,
  });
  const upstream = /^ref: refs\/remotes\/origin\/(\S+)\trefs\/remotes\/origin\/HEAD$/m.exec(out);
  const m = upstream ?? /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(out);
  return m ? m[1]! : null;
}

/**
 * The commit a branch of the repository at `url` is at: its `refs/heads/<branch>`, else, in a working
 * copy that has the branch only as fetched from its origin, `refs/remotes/origin/<branch>`; null when
 * it has neither.
 */
export async function branchHead(
  url: string,
  branch: string,
  env: Record<string, string>,
): Promise<string | null> {
  return (
    (await lsRemote(url, `refs/heads/${branch}`, env)) ??
    (await lsRemote(url, `refs/remotes/origin/${branch}`, env))
  );
}
