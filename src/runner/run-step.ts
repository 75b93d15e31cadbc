import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { STEP_MARKER, WORKER_MARKER, killTree } from './kill-tree.ts';

/** Longer lines are split into pieces of this size, never dropped. */
const MAX_LINE = 64 * 1024;

export interface StepOptions {
  script: string;
  /** Shell command line; the script file is appended (or replaces `{0}`). */
  shell: string | null;
  /** Where to write the script file. */
  scriptFile: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  killGraceMs: number;
  signal?: AbortSignal;
  onLine(stream: 'out' | 'err', line: string): void;
}

export interface StepResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  canceled: boolean;
}

const DEFAULT_SHELL =
  existsSync('/bin/bash') || existsSync('/usr/bin/bash')
    ? 'bash --noprofile --norc -eo pipefail {0}'
    : 'sh -e {0}';

function shellArgs(shell: string | null, file: string): [string, string[]] {
  const words = (shell ?? DEFAULT_SHELL).split(/\s+/).filter(Boolean);
  if (!words.includes('{0}')) words.push('{0}');
  const [cmd, ...args] = words.map((w) => (w === '{0}' ? file : w));
  return [cmd!, args];
}

function splitLines(stream: Readable, emit: (line: string) => void): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  const push = (text: string) => {
    rest += text;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      emit(rest.slice(0, nl).replace(/\r$/, ''));
      rest = rest.slice(nl + 1);
    }
    while (rest.length > MAX_LINE) {
      emit(rest.slice(0, MAX_LINE));
      rest = rest.slice(MAX_LINE);
    }
  };
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => push(decoder.write(chunk)));
    stream.on('end', () => {
      push(decoder.end());
      if (rest.length > 0) emit(rest);
      resolve();
    });
    stream.on('error', () => resolve());
  });
}

/**
 * Runs one script in its own process group with exactly the given environment. A timeout or the abort
 * signal ends the whole tree (SIGTERM, then SIGKILL after the grace period); so does the step's end,
 * so nothing it started in the background outlives it.
 */
export async function runStep(o: StepOptions): Promise<StepResult> {
  await writeFile(o.scriptFile, o.script.endsWith('\n') ? o.script : `${o.script}\n`, { mode: 0o600 });
  const token = randomBytes(12).toString('hex');
  const [cmd, args] = shellArgs(o.shell, o.scriptFile);
  const child = execa(cmd, args, {
    cwd: o.cwd,
    env: { ...o.env, [STEP_MARKER]: token, [WORKER_MARKER]: String(process.pid) },
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    cleanup: false,
  });
  let timedOut = false;
  let canceled = false;
  let killing: Promise<void> | null = null;
  const kill = () => (killing ??= killTree(child.pid, token, o.killGraceMs));
  const timer = setTimeout(() => {
    timedOut = true;
    void kill();
  }, o.timeoutMs);
  const onAbort = () => {
    canceled = true;
    void kill();
  };
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  // When the shell exits, whatever it left running in the background goes too; otherwise it would hold
  // the output pipes open and the step would never end.
  child.nodeChildProcess.once('exit', () => {
    if (!killing) killing = killTree(child.pid, token, Math.min(o.killGraceMs, 1000));
  });
  const lines = Promise.all([
    splitLines(child.stdout!, (l) => o.onLine('out', l)),
    splitLines(child.stderr!, (l) => o.onLine('err', l)),
  ]);
  const result = await child;
  await lines;
  clearTimeout(timer);
  o.signal?.removeEventListener('abort', onAbort);
  await killing;
  return {
    exitCode: typeof result.exitCode === 'number' ? result.exitCode : null,
    signal: result.signal ?? null,
    timedOut,
    canceled,
  };
}

/** Tells whether a step runner can start at all (missing shell and the like), for clear errors. */
export function describeShell(shell: string | null): string {
  return (shell ?? DEFAULT_SHELL).replace('{0}', '<script>');
}
