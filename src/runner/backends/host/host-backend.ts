import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import type { Backend, JobRuntime, PrepareOptions, StartOptions, StartedStep } from '../../backend.ts';
import { STEP_MARKER, WORKER_MARKER, killTree, sweepOrphans } from './kill-tree.ts';

async function start(o: StartOptions): Promise<StartedStep> {
  const token = randomBytes(12).toString('hex');
  const [cmd, ...args] = o.argv;
  const child = execa(cmd!, args, {
    cwd: o.cwd,
    env: { ...o.env, [STEP_MARKER]: token, [WORKER_MARKER]: String(process.pid) },
    extendEnv: false,
    detached: true,
    stdin: o.stdin ? 'pipe' : 'ignore',
    buffer: false,
    reject: false,
    cleanup: false,
  });
  if (o.stdin && child.stdin) {
    child.stdin.on('error', () => {});
    o.stdin.on('error', () => child.stdin?.destroy());
    o.stdin.pipe(child.stdin);
  }
  let killing: Promise<void> | null = null;
  const kill = (graceMs: number) => (killing ??= killTree(child.pid, token, graceMs));
  // When the shell exits, whatever it left running in the background goes too; otherwise it would hold
  // the output pipes open and the step would never end.
  child.nodeChildProcess.once('exit', () => void kill(1000));
  const exit = child.then((r) => ({
    exitCode: typeof r.exitCode === 'number' ? r.exitCode : null,
    signal: r.signal ?? null,
  }));
  return {
    stdout: child.stdout!,
    stderr: child.stderr!,
    exit,
    kill,
    limitHit: async () => null,
  };
}

/**
 * Steps as plain child processes of the worker, as the worker's user, with its view of the machine:
 * no isolation at all. Each step runs in its own process group and carries a random marker in its
 * environment, so daemons that left the group are still found and ended with it.
 */
export function hostBackend(): Backend {
  return {
    name: 'host',
    isolated: false,
    describe: (o) =>
      `pushci: runner: host (no sandbox: steps run as the pushci user and see what it sees; job limits${o.network === 'default' ? '' : ` and network: ${o.network}`} are not enforced)`,
    async prepare(o: PrepareOptions): Promise<JobRuntime> {
      return { workspace: o.dirs.src, tmp: o.dirs.tmp, env: {}, start, destroy: async () => {} };
    },
    sweep: sweepOrphans,
  };
}
