import type { Redis } from 'ioredis';
import { withScripts, type ScriptRedis } from '../queue/scripts.ts';

export type LogStream = 'out' | 'err' | 'sys';

export interface LogLine {
  /** Milliseconds since the epoch. */
  t: number;
  s: LogStream;
  m: string;
}

export function encodeLine(l: LogLine): string {
  return `${l.t}\t${l.s}\t${l.m}`;
}

export function decodeLine(raw: string): LogLine {
  const a = raw.indexOf('\t');
  const b = raw.indexOf('\t', a + 1);
  return { t: Number(raw.slice(0, a)), s: raw.slice(a + 1, b) as LogStream, m: raw.slice(b + 1) };
}

const FLUSH_LINES = 500;
const FLUSH_MS = 100;
/** Lines per append (a bigger batch goes as several, pipelined; each one script call). */
const MAX_PUSH = 5000;

/** The attempt a log belongs to: its lines are kept only while it is the job's current attempt. */
export interface LogAttempt {
  /** The build's hash. */
  build: string;
  /** The job's state field in it (JSON with its `attempt`). */
  field: string;
  attempt: number;
}

/**
 * A job's log in a Redis list, so any server can read it while the job runs. Lines are masked, batched
 * (one RPUSH per 500 lines or 100 ms, more at once while the previous one is on its way) and capped;
 * past the cap one line says how much was cut. Each element is one line: a text with newlines is stored
 * as several (readers join a slice by newlines, log-range-1.lua). Each append is announced on `channel`.
 */
export class JobLog {
  private pending: string[] = [];
  private bytes = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** A send is chained and has not taken its batch yet: new lines join it. */
  private queued = false;
  /** A newer attempt has the job: this one's lines are no longer stored. */
  private superseded = false;

  private readonly redis: ScriptRedis;
  private readonly key: string;
  private readonly maxBytes: number;
  private readonly mask: (line: string) => string;
  private readonly attempt: LogAttempt;
  private readonly channel: string;

  constructor(
    redis: Redis,
    key: string,
    maxBytes: number,
    mask: (line: string) => string,
    attempt: LogAttempt,
    /** Where each append is announced (Keys.logAppendsChannel). */
    channel: string,
  ) {
    this.redis = withScripts(redis);
    this.key = key;
    this.maxBytes = maxBytes;
    this.mask = mask;
    this.attempt = attempt;
    this.channel = channel;
  }

  /** `t`: when it was printed, for lines written later than that (a service's, at the job's end). */
  write(s: LogStream, text: string, t = Date.now()): void {
    if (this.superseded) return;
    const m = this.mask(text);
    // A step's lines never hold a newline; pushci's own texts may (an error's output).
    if (m.includes('\n')) {
      for (const piece of m.split('\n')) this.store(encodeLine({ t, s, m: piece }));
      return;
    }
    this.store(encodeLine({ t, s, m }));
  }

  private store(line: string): void {
    if (this.bytes + line.length > this.maxBytes) {
      this.dropped++;
      return;
    }
    this.bytes += line.length + 1;
    this.pending.push(line);
    if (this.pending.length >= FLUSH_LINES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  system(text: string, t = Date.now()): void {
    this.write('sys', text, t);
  }

  /**
   * Sends what is buffered; sends are chained, so lines stay in order. While one is on its way, lines
   * keep gathering and the next send takes all of them: a step printing faster than one RPUSH a batch
   * gets bigger batches, not a growing queue of small ones.
   */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length > 0 && !this.queued) {
      this.queued = true;
      this.flushing = this.flushing.then(async () => {
        this.queued = false;
        const batch = this.pending;
        this.pending = [];
        const sends: Array<Promise<number>> = [];
        for (let i = 0; i < batch.length && !this.superseded; i += MAX_PUSH)
          sends.push(this.push(batch.slice(i, i + MAX_PUSH)));
        await Promise.all(sends);
      });
    }
    return this.flushing;
  }

  /** One RPUSH, checked against the job's current attempt in the same script. */
  private async push(lines: string[]): Promise<number> {
    const a = this.attempt;
    const n = await this.redis.pushciAppendLog(
      this.key,
      a.build,
      a.field,
      String(a.attempt),
      this.channel,
      lines.join('\n'),
    );
    if (n < 0) this.superseded = true;
    return n;
  }

  async close(): Promise<void> {
    if (this.dropped > 0) {
      this.pending.push(
        encodeLine({
          t: Date.now(),
          s: 'sys',
          m: `pushci: log cut at ${this.maxBytes} bytes (PUSHCI_LOG_MAX_BYTES); ${this.dropped} more lines were not stored`,
        }),
      );
    }
    await this.flush();
  }
}
