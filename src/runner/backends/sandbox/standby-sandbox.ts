import type { Writable } from 'node:stream';
import type { SpawnFn, Spawned } from '../../spawner/start-spawner.ts';
import { stepPrelude, type ShellLimits } from './network.ts';
import type { SlotNetwork } from './slot-network.ts';

/** bubblewrap's descriptors: stdin (a pipe or none), stdout, stderr, info (3), block (4), ready (5), arguments (6). */
const stdio = (stdin: boolean): Array<'pipe' | 'ignore'> => [
  stdin ? 'pipe' : 'ignore',
  'pipe',
  'pipe',
  'pipe',
  'pipe',
  'pipe',
  'pipe',
];
const ARGS_FD = '6';

/**
 * The standby's command line takes `--perms` before `--args`, and the options sent start with the one
 * option that uses it up (a folder made in the sandbox's root before the host's root covers it): an
 * options list that never came (its worker died, the pipe closed) leaves `--perms` unused, and
 * bubblewrap stops there, before it makes anything. Without it, bubblewrap went on with no options, and
 * a kill landing just after it forked left that process waiting forever in the job's cgroups.
 */
const NEEDS_OPTIONS = ['--perms', '0700'];
const FIRST_OPTION = ['--dir', '/tmp'];

/**
 * bubblewrap 0.8 refuses to start with more than 9,000 arguments, those read from `--args` included;
 * its own command line takes about 20.
 */
const MAX_ARGS = 8900;

/**
 * What the worker writes on the ready descriptor (fd 5, a socket pair) right after bubblewrap's block
 * pipe: the sandbox's first line (`standbyCommand`).
 */
export const GO = 'go';
const GO_VAR = 'PUSHCI_STANDBY_GO';

/** Names of the variables the step's command travels in (the step never sees them: see `standbyCommand`). */
const ARGC = 'PUSHCI_STANDBY_ARGC';
const ARG = 'PUSHCI_STANDBY_ARG_';
/**
 * The variables whose names are no shell identifiers (`INPUT_NODE-VERSION`, GitHub's spelling of an
 * action's `node-version` input) travel as `name=value` in these: a shell such as dash drops them from
 * the environment of what it runs, so the wrapper hands them to `env`, which keeps any name.
 */
const ENVC = 'PUSHCI_STANDBY_ENVC';
const ENV = 'PUSHCI_STANDBY_ENV_';
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A step's bubblewrap started before its step is known. It waits reading its options from a pipe
 * (`--args`), and meanwhile is moved into the job's cgroups, so the sandbox it makes is born in them.
 * Every sandbox starts this way: most from a standby made ahead (while the job's checkout runs, or while
 * the step before runs), which takes the move off the step's start (it waits for an RCU grace period of
 * the kernel, 1 to 20 ms here, most of a trivial step's start); the others from one made on the spot.
 *
 * bubblewrap and nsenter run as the worker's user on this machine, so they are given nothing of the
 * step's environment (only the helpers' PATH): a step's `LD_PRELOAD` or `LD_DEBUG_OUTPUT` would act in
 * them, outside any sandbox. The step's environment reaches its sandbox as `--setenv` options on the
 * pipe, never on a command line (which every user of the machine can read in /proc).
 */
export interface Standby {
  /** bubblewrap; `stdio[3..5]` are the info, block and ready descriptors of `standbyCommand`'s sandbox. */
  readonly child: Spawned;
  /** The slot network it was started in (null: none, or not in one). */
  readonly slot: SlotNetwork | null;
  /** Null once it is in the job's cgroups (at once without cgroups), or the move's error. */
  readonly placed: Promise<Error | null>;
  /** It has ended (it never started, or it was killed). */
  readonly ended: boolean;
  /** It was started with a pipe for the step's standard input. */
  readonly stdin: boolean;
  /**
   * Starts the sandbox with `args` (`standbyArgs`). False (nothing sent) when it has ended or was used
   * already: start another.
   */
  send(args: string[]): boolean;
  /**
   * Ends it unused; resolves once it has exited. It is sent an option it refuses too, so even a
   * bubblewrap whose spawner died (and which nobody can signal any more) exits before making anything.
   */
  discard(): Promise<void>;
}

/**
 * The standby's command, fixed when it starts: a check that `send` sent the step's command, the step's
 * shell limits and ready report (`stepPrelude`), then the step's own command, taken from the variables
 * `standbyArgs` sets (values as data: the `eval` only ever sees the template and a number of its own),
 * which are unset before it runs.
 */
export function standbyCommand(limits: ShellLimits): string[] {
  // Nothing at all without the command `send` sends: a standby whose worker died before sending it reads
  // an empty option list, and bubblewrap then runs this wrapper with none of the sandbox's options.
  const guard = `case "$${ARGC}" in ''|*[!0-9]*) exit 125;; esac; `;
  // Nothing of the step before its worker said "go" (GO) on the ready descriptor too: bubblewrap takes
  // the end of its block pipe (a worker killed before it told this sandbox to start) as "go", and binds
  // itself to its parent only after that, so the step would run on with nobody to time it out or end it.
  const go = `IFS= read -r ${GO_VAR} <&5; case "$${GO_VAR}" in ${GO}) ;; *) exit 125;; esac; unset ${GO_VAR}; `;
  const collect = (count: string, prefix: string) =>
    `PUSHCI_STANDBY_I=0; ` +
    `while [ "$PUSHCI_STANDBY_I" -lt "$${count}" ]; do ` +
    `eval "set -- \\"\\$@\\" \\"\\$${prefix}$PUSHCI_STANDBY_I\\"; unset ${prefix}$PUSHCI_STANDBY_I"; ` +
    `PUSHCI_STANDBY_I=$((PUSHCI_STANDBY_I + 1)); done; `;
  // Variables with names a shell drops: `env -- name=value... command` (only when there are any).
  const odd =
    `case "\${${ENVC}:-0}" in 0) set --;; *[!0-9]*) exit 125;; *) set -- /usr/bin/env --; ${collect(ENVC, ENV)}esac; ` +
    `unset ${ENVC}; `;
  const assemble = `${odd}${collect(ARGC, ARG)}unset PUSHCI_STANDBY_I ${ARGC}; `;
  return ['/bin/sh', '-c', `${guard}${go}${stepPrelude(limits)}${assemble}exec "$@"`, 'pushci-step'];
}

/**
 * bubblewrap's arguments carrying `options`, `env` (all of it) and the step's `argv`, or why they cannot
 * be sent: a NUL byte anywhere would split an argument (and could add options of the step's choosing),
 * a name that is empty or holds '=' is no variable, and bubblewrap takes at most MAX_ARGS of them.
 */
export function standbyArgs(
  options: string[],
  env: Record<string, string>,
  argv: string[],
): { args: string[] } | { problem: string } {
  const nul = (x: string) => x.includes('\0');
  if (options.some(nul)) return { problem: 'a path of the job holds a NUL byte' };
  const out = [...FIRST_OPTION, ...options, '--clearenv'];
  const odd: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (k === '' || k.includes('=') || nul(k))
      return { problem: `${JSON.stringify(k)} is not a valid name for an environment variable` };
    // Where /bin/sh is bash, such a variable is an exported function, which would replace the wrapper's
    // own `read` or `ulimit` (its check of "go", the step's limits) before the step runs.
    if (k.startsWith('BASH_FUNC_'))
      return { problem: `${k} is an exported shell function, which a sandboxed step cannot be given` };
    if (nul(v)) return { problem: `the value of the environment variable ${k} holds a NUL byte` };
    // The wrapper's own names (pushci's, never a step's).
    if (
      k === ARGC ||
      k.startsWith(ARG) ||
      k === ENVC ||
      k.startsWith(ENV) ||
      k === 'PUSHCI_STANDBY_I' ||
      k === GO_VAR
    )
      continue;
    if (IDENTIFIER.test(k)) out.push('--setenv', k, v);
    else odd.push(`${k}=${v}`);
  }
  if (argv.some(nul)) return { problem: "the step's command holds a NUL byte" };
  if (odd.length > 0) {
    out.push('--setenv', ENVC, String(odd.length));
    odd.forEach((a, i) => out.push('--setenv', `${ENV}${i}`, a));
  }
  out.push('--setenv', ARGC, String(argv.length));
  argv.forEach((a, i) => out.push('--setenv', `${ARG}${i}`, a));
  if (out.length > MAX_ARGS)
    return {
      problem: `the step's environment holds ${Object.keys(env).length} variables; a sandboxed step can be started with about ${Math.floor((MAX_ARGS - options.length - 3 * argv.length) / 3)} at most`,
    };
  return { args: out };
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
  /** A pipe for the step's standard input (default: none). */
  stdin?: boolean;
}): Promise<Standby> {
  const command = [...NEEDS_OPTIONS, '--args', ARGS_FD, '--', ...standbyCommand(o.shell)];
  const child = await o.spawn(
    o.slot ? o.nsenter : o.bwrap,
    o.slot
      ? ['-t', String(o.slot.pid), '-U', '-n', '--preserve-credentials', '--', o.bwrap, ...command]
      : command,
    { env: o.env, stdio: stdio(o.stdin ?? false) },
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
  const placed: Promise<Error | null> =
    child.pid > 0 && args && o.place
      ? o.place(child.pid).then(
          () => null,
          (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
        )
      : Promise.resolve(null);
  /**
   * Tells a bubblewrap still waiting for its options to give up: an option it does not know stops it
   * while it reads them, before it makes anything (as the end of the pipe alone does: NEEDS_OPTIONS).
   */
  const refuse = () => {
    if (args && !args.writableEnded) args.end('--pushci-standby-discarded\0');
  };
  const close = () => {
    for (const fd of child.stdio) if (fd !== args) fd?.destroy();
  };
  // A spawner that died reports its programs ended, but a bubblewrap still waiting for its options is
  // nobody's child to kill: only its options pipe reaches it.
  void exit.then(() => {
    if (!used) {
      refuse();
      close();
    }
  });
  return {
    child,
    slot: o.slot,
    stdin: o.stdin ?? false,
    placed,
    get ended() {
      return exited || child.pid === 0;
    },
    send(all) {
      if (!args || exited || used) return false;
      used = true;
      args.end(`${all.join('\0')}\0`);
      return true;
    },
    async discard() {
      if (!used) refuse();
      used = true;
      child.kill('SIGKILL');
      await exit;
      close();
    },
  };
}
