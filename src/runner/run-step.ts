import { existsSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { JobRuntime } from './backend.ts';
import { asyncFileWork, type FileOp, type FileWork } from './files/file-work.ts';
import type { LineCut } from './mask.ts';

/** Longer lines are split into pieces of this size, never dropped. */
const MAX_LINE = 64 * 1024;

export interface StepOptions {
  script: string;
  /** A program and its arguments to run instead of the script (a node action's file). */
  argv?: string[];
  /** Shell command line; the script file is appended (or replaces `{0}`). */
  shell: string | null;
  /** Where to write the script file (a host path under the job's `scripts` folder). */
  scriptFile: string;
  /** Writes the script file (default: node:fs/promises). */
  files?: FileWork;
  /** The caller wrote the script file already (`scriptFileOp`, in a batch of file work of its own). */
  scriptWritten?: boolean;
  /** Host path of the working directory. */
  cwd: string;
  env: Record<string, string>;
  /** The step was given the job gateway's URL: its runtime forwards the gateway to it. */
  gateway?: boolean;
  timeoutMs: number;
  killGraceMs: number;
  signal?: AbortSignal;
  onLine(stream: 'out' | 'err', line: string): void;
  /** Where a line too long for one log line is cut (the job's secrets: never inside one). */
  cut?: LineCut;
  /** Called once the step's process runs (its sandbox is set up). */
  onStarted?(): void;
}

export interface StepResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  canceled: boolean;
  /** The resource limit the step ran into, as a sentence, or null. */
  limit: string | null;
}

const DEFAULT_SHELL =
  existsSync('/bin/bash') || existsSync('/usr/bin/bash')
    ? 'bash --noprofile --norc -eo pipefail {0}'
    : 'sh -e {0}';

function shellArgs(shell: string | null, file: string): string[] {
  const words = (shell ?? DEFAULT_SHELL).split(/\s+/).filter(Boolean);
  if (!words.includes('{0}')) words.push('{0}');
  return words.map((w) => (w === '{0}' ? file : w));
}

/**
 * Calls `emit` with each line of `stream` (long lines in pieces, cut where `cut` says: never inside a
 * secret, since each piece is masked alone); resolves when it ends.
 */
export function splitLines(
  stream: Readable,
  emit: (line: string) => void,
  cut: LineCut = (_text, max) => max,
): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  const pieces = (final: boolean) => {
    while (rest.length > MAX_LINE) {
      const at = cut(rest, MAX_LINE, final);
      if (at === null) return;
      emit(rest.slice(0, at));
      rest = rest.slice(at);
    }
  };
  const push = (text: string) => {
    rest += text;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl).replace(/\r$/, '');
      rest = rest.slice(nl + 1);
      // A line that waited for more text to be cut safely: its pieces, then its end.
      const tail = rest;
      rest = line;
      pieces(true);
      if (rest.length > 0 || line.length === 0) emit(rest);
      rest = tail;
    }
    pieces(false);
  };
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => push(decoder.write(chunk)));
    stream.on('end', () => {
      push(decoder.end());
      pieces(true);
      if (rest.length > 0) emit(rest);
      resolve();
    });
    stream.on('error', () => resolve());
    stream.on('close', () => resolve());
  });
}

/** The write of a step's script file (its last line ended, as a shell reads it). */
export function scriptFileOp(o: Pick<StepOptions, 'script' | 'scriptFile'>): FileOp {
  return {
    op: 'write',
    path: o.scriptFile,
    data: o.script.endsWith('\n') ? o.script : `${o.script}\n`,
    mode: 0o600,
  };
}

/**
 * Runs one script through the job's backend with exactly the given environment. A timeout or the abort
 * signal ends everything the step started (SIGTERM, then SIGKILL after the grace period); so does the
 * step's end, so nothing it started in the background outlives it.
 */
export async function runStep(rt: JobRuntime, o: StepOptions): Promise<StepResult> {
  if (!o.argv && !o.scriptWritten) await (o.files ?? asyncFileWork).apply([scriptFileOp(o)]);
  const step = await rt.start({
    argv: o.argv ?? shellArgs(o.shell, o.scriptFile),
    cwd: o.cwd,
    env: o.env,
    ...(o.gateway ? { gateway: true } : {}),
  });
  o.onStarted?.();
  let timedOut = false;
  let canceled = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void step.kill(o.killGraceMs);
  }, o.timeoutMs);
  const onAbort = () => {
    canceled = true;
    void step.kill(o.killGraceMs);
  };
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const lines = Promise.all([
    splitLines(step.stdout, (l) => o.onLine('out', l), o.cut),
    splitLines(step.stderr, (l) => o.onLine('err', l), o.cut),
  ]);
  const result = await step.exit;
  // Whatever the script left running in the background ends with it.
  await step.kill(Math.min(o.killGraceMs, 1000));
  await lines;
  clearTimeout(timer);
  o.signal?.removeEventListener('abort', onAbort);
  return { ...result, timedOut, canceled, limit: await step.limitHit() };
}

/** The shell a step runs under, for the log line that starts it. */
export function describeShell(shell: string | null): string {
  return (shell ?? DEFAULT_SHELL).replace('{0}', '<script>');
}
