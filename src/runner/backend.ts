import type { SpawnFn } from './spawner/start-spawner.ts';
import type { Readable } from 'node:stream';

/**
 * How a job's steps reach the network. `default`: outbound only (the sandbox reaches nothing on this
 * machine); `none`: no network at all; `host`: the machine's own network, loopback included.
 */
export type NetworkMode = 'default' | 'none' | 'host';

/** Per-job resource limits; 0 means "no limit". */
export interface JobLimits {
  /** Processes (and threads) alive at once. */
  processes: number;
  /** Memory in bytes. */
  memoryBytes: number;
  /** Bytes the job may write into its workspace, /tmp and $HOME together. */
  diskBytes: number;
  /** Open files per process. */
  openFiles: number;
}

/**
 * A job's directory on the host, made by the runner: the checkout (`src`), the step scripts
 * (`scripts`), and the job's private `/tmp` (`tmp`) and `$HOME` (`home`).
 */
export interface JobDirs {
  root: string;
  src: string;
  scripts: string;
  tmp: string;
  home: string;
}

export interface PrepareOptions {
  /** Build, job and attempt, for names (cgroups) and log lines. */
  id: string;
  dirs: JobDirs;
  /** Host directories the steps may read but not write (the mirror's object store the checkout borrows). */
  readOnly: string[];
  network: NetworkMode;
  limits: JobLimits;
  /** How many sandboxes the job is expected to start (its steps and services): the next ones may be made ready ahead. */
  starts?: number;
  /** What `Backend.reserve` made for this job while its checkout ran (taken over: `destroy` releases it). */
  reserved?: Reservation;
}

/** What a backend made for a job before its checkout was there; released unless `prepare` took it over. */
export interface Reservation {
  /** Releases it (nothing when `prepare` took it over). Idempotent. */
  release(): Promise<void>;
}

export interface StartOptions {
  /** Program and arguments; paths in it are host paths under the job's directory. */
  argv: string[];
  /** Host path of the working directory, inside `dirs.src`. */
  cwd: string;
  /** The whole environment of the step (nothing is inherited). */
  env: Record<string, string>;
  /** Fed to the step's standard input (none when absent), e.g. an archive to unpack. */
  stdin?: Readable;
  /**
   * The step was given the job gateway's URL (`exposeGateway`): a runtime that forwards it into the
   * step's own network does so for this step. Without it nothing of the gateway is set up for the step.
   */
  gateway?: boolean;
}

export interface StepExit {
  exitCode: number | null;
  signal: string | null;
}

/** One running step. Its output arrives on `stdout`/`stderr` until every process holding them is gone. */
export interface StartedStep {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles when the step's main process has exited (never rejects). */
  readonly exit: Promise<StepExit>;
  /**
   * Ends every process the step started (daemons included): SIGTERM, then SIGKILL after `graceMs`.
   * Idempotent; resolves when they are gone.
   */
  kill(graceMs: number): Promise<void>;
  /** After the step ended: the limit it ran into, as a sentence for its log, or null. */
  limitHit(): Promise<string | null>;
}

/** How services (processes started with `start` that run next to the steps) reach the steps. */
export interface ServiceSupport {
  /** True when each sandbox has a loopback of its own (any port is free there); false: this machine's. */
  readonly privateLoopback: boolean;
  /** Makes 127.0.0.1:`port` of `service` reachable at that address in every sandbox started from now on. */
  publish(service: StartedStep, port: number): Promise<void>;
  /** True when something in `service`'s network listens on TCP `port`. */
  listening(service: StartedStep, port: number): Promise<boolean>;
}

/** A prepared job: its steps start here, one at a time. */
export interface JobRuntime {
  /** The checkout's path as the steps see it (`CI_WORKSPACE`). */
  readonly workspace: string;
  /** The job's `tmp` folder as the steps see it (where step command files such as GITHUB_OUTPUT live). */
  readonly tmp: string;
  /** Variables the backend sets for every step (`HOME`, `TMPDIR`), over the step's own. */
  readonly env: Readonly<Record<string, string>>;
  start(o: StartOptions): Promise<StartedStep>;
  /**
   * Makes the job's gateway (a unix socket of the worker's) reachable from the steps started from now
   * on: the base URL they use, `{ unavailable }` with the reason when it cannot be, or null when the
   * steps share this machine's network (the gateway then listens on its loopback itself).
   */
  exposeGateway?(socket: string): Promise<{ url: string } | { unavailable: string } | null>;
  /** Services' ports, when steps do not share this machine's loopback (absent: they do). */
  readonly services?: ServiceSupport;
  /** Ends whatever is left and releases what `prepare` took (network helpers, cgroups). Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Where steps run. `host` runs them as plain child processes of the worker; `sandbox` in Linux
 * namespaces. A container backend (docker/podman, with a job `image:`) is one more implementation.
 */
export interface Backend {
  readonly name: 'host' | 'sandbox';
  /** False when steps run with the worker's own view of the machine: builds are marked unsandboxed. */
  readonly isolated: boolean;
  /** One line for the job log saying where and how the steps run. */
  describe(o: PrepareOptions): string;
  prepare(o: PrepareOptions): Promise<JobRuntime>;
  /**
   * Makes what the job's sandbox needs that does not depend on its checkout (a network, cgroups, the
   * first step's process waiting to be told what to run), called while the checkout runs; `prepare`
   * takes it over through `PrepareOptions.reserved`. Absent: `prepare` does everything.
   */
  reserve?(o: Pick<PrepareOptions, 'id' | 'network' | 'limits' | 'starts'>): Promise<Reservation>;
  /** Called once when a worker starts: ends step processes a killed worker left behind. */
  sweep(): Promise<number>;
  /** Ends what it keeps between jobs (called once its worker ran its last job); absent: nothing kept. */
  close?(): Promise<void>;
  /** How the worker's own programs (the checkout's git) are started; absent: by forking the worker. */
  readonly spawn?: SpawnFn;
}
