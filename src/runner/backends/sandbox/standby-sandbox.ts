import type { Writable } from 'node:stream';
import type { SpawnFn, Spawned } from '../../spawner/start-spawner.ts';
import { stepCommand, type ShellLimits } from './network.ts';
import type { SlotNetwork } from './slot-network.ts';

/** bubblewrap's descriptors: no stdin, stdout, stderr, info (3), block (4), ready (5), arguments (6). */
const STDIO: Array<'pipe' | 'ignore'> = ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'];
const ARGS_FD = '6';

/** Names of the variables the step's command travels in (the step never sees them: see `standbyCommand`). */
const ARGC = 'PUSHCI_STANDBY_ARGC';
const ARG = 'PUSHCI_STANDBY_ARG_';

/**
 * A step's bubblewrap started before its step is known (while the job's checkout runs, or while the
 * step before it runs). It waits reading its options from a pipe (`--args`), and meanwhile is moved into
 * the job's cgroups, so the sandbox it makes is born in them. Moving a process between cgroups waits for
 * an RCU grace period of the kernel (1 to 20 ms here, most of a trivial step's start); a standby takes
 * that wait off the step's start.
 */
export interface Standby {
  /** bubblewrap; `stdio[3..5]` are the info, block and ready descriptors of `stepCommand`'s sandbox. */
  readonly child: Spawned;
  /** The slot network it was started in (null: none, or not in one). */
  readonly slot: SlotNetwork | null;
  /** True once it is in the job's cgroups (at once without cgroups); false when it cannot be used. */
  readonly placed: Promise<boolean>;
  /**
   * Starts the sandbox: bubblewrap's `options` (mounts, `--chdir`, `--info-fd`, `--block-fd`), then the
   * step's whole environment and its command. False (nothing sent, nothing started: use a plain start)
   * when one of them cannot travel as bubblewrap's NUL-separated arguments, or it was used already.
   */
  go(options: string[], env: Record<string, string>, argv: string[]): boolean;
  /** Ends it unused; resolves once it has exited. */
  discard(): Promise<void>;
}

/**
 * The standby's command, fixed when it starts: a check that `go` sent the command, the step's shell
 * limits and ready report of
 * `stepCommand`, then the step's own command, taken from the variables `go` sets (values as data: the
 * `eval` only ever sees the template and a number of its own), which are unset before it runs.
 */
export function standbyCommand(limits: ShellLimits): string[] {
  const [sh, c, script, name] = stepCommand([], limits);
  const assemble =
    `set --; PUSHCI_STANDBY_I=0; ` +
    `while [ "$PUSHCI_STANDBY_I" -lt "$${ARGC}" ]; do ` +
    `eval "set -- \\"\\$@\\" \\"\\$${ARG}$PUSHCI_STANDBY_I\\"; unset ${ARG}$PUSHCI_STANDBY_I"; ` +
    `PUSHCI_STANDBY_I=$((PUSHCI_STANDBY_I + 1)); done; unset PUSHCI_STANDBY_I ${ARGC}; `;
  const run = script!.replace(/exec "\$@"$/, `${assemble}exec "$@"`);
  if (run === script) throw new Error('stepCommand no longer ends with exec "$@"');
  // Nothing at all without the command `go` sends: a standby whose worker died before sending it reads
  // an empty option list, and bubblewrap then runs this wrapper with none of the sandbox's options.
  const guard = `case "$${ARGC}" in ''|*[!0-9]*) exit 125;; esac; `;
  return [sh!, c!, guard + run, name!];
}

/** bubblewrap's arguments carrying `env` (all of it) and the step's `argv`; null when one cannot travel. */
export function standbyArgs(options: string[], env: Record<string, string>, argv: string[]): string[] | null {
  const out = [...options, '--clearenv'];
  for (const [k, v] of Object.entries(env)) {
    // As execve would take them: a name is never empty or holds '='; NUL ends a value early there and
    // would split an argument here. Such a step is started the plain way, which refuses it as before.
    if (k === '' || k.includes('=') || k.includes('\0') || v.includes('\0')) return null;
    if (k === ARGC || k.startsWith(ARG) || k === 'PUSHCI_STANDBY_I') continue;
    out.push('--setenv', k, v);
  }
  for (const a of argv) if (a.includes('\0')) return null;
  out.push('--setenv', ARGC, String(argv.length));
  argv.forEach((a, i) => out.push('--setenv', `${ARG}${i}`, a));
  return out;
}

/**
 * Starts a standby: `bwrap --args 6 -- <standbyCommand>`, in `slot`'s namespaces through nsenter when
 * given; `place` moves it into the job's cgroups (absent: none).
 */
export async function startStandby(o: {
  spawn: SpawnFn;
  env: Record<string, string>;
  bwrap: string;
  nsenter: string;
  slot: SlotNetwork | null;
  shell: ShellLimits;
  place: ((pid: number) => Promise<void>) | null;
}): Promise<Standby> {
  const command = ['--args', ARGS_FD, '--', ...standbyCommand(o.shell)];
  const child = await o.spawn(
    o.slot ? o.nsenter : o.bwrap,
    o.slot
      ? ['-t', String(o.slot.pid), '-U', '-n', '--preserve-credentials', '--', o.bwrap, ...command]
      : command,
    { env: o.env, stdio: STDIO },
  );
  let exited = false;
  let used = false;
  const exit = new Promise<void>((resolve) => {
    child.once('error', () => resolve());
    child.once('exit', () => resolve());
  });
  void exit.then(() => (exited = true));
  // The extra descriptors are socket pairs; bubblewrap closing its ends must not be an error here.
  for (const fd of child.stdio.slice(3)) fd?.on('error', () => {});
  const args = child.stdio[6] as Writable | null;
  const placed =
    child.pid > 0 && args
      ? (o.place ? o.place(child.pid) : Promise.resolve()).then(
          () => !exited,
          () => false,
        )
      : Promise.resolve(false);
  return {
    child,
    slot: o.slot,
    placed,
    go(options, env, argv) {
      const all = standbyArgs(options, env, argv);
      if (!all || !args || exited || used) return false;
      used = true;
      args.end(`${all.join('\0')}\0`);
      return true;
    },
    async discard() {
      child.kill('SIGKILL');
      await exit;
    },
  };
}
