import { resolve } from 'node:path';
import { ConfigError } from './errors.ts';
import { FORGE_SETTINGS } from './forges/registry.ts';

type Kind = 'string' | 'int' | 'bool' | 'list' | 'duration' | 'size';

/** One setting: its env var, its CLI flag, its default, and the line of documentation the README shows. */
export interface Setting {
  key: keyof Omit<Config, 'env'>;
  env: string;
  flag: string;
  kind: Kind;
  default: string | undefined;
  doc: string;
}

const MiB = 1024 * 1024;

/** Every setting pushci reads. The README's configuration table lists the same rows. */
export const SETTINGS: readonly Setting[] = [
  { key: 'port', env: 'PORT', flag: 'port', kind: 'int', default: '3000', doc: 'HTTP port.' },
  {
    key: 'host',
    env: 'HOST',
    flag: 'host',
    kind: 'string',
    default: undefined,
    doc: 'Address to listen on (all interfaces when unset).',
  },
  {
    key: 'redisUrl',
    env: 'REDIS_URL',
    flag: 'redis-url',
    kind: 'string',
    default: undefined,
    doc: 'Redis to use; when unset, pushci starts its own redis-server under the data directory.',
  },
  {
    key: 'pipelinesDir',
    env: 'PUSHCI_PIPELINES',
    flag: 'pipelines',
    kind: 'string',
    default: './pipelines',
    doc: 'Folder of pipeline files (`*.yml`, `*.yaml`).',
  },
  {
    key: 'dataDir',
    env: 'PUSHCI_DATA_DIR',
    flag: 'data-dir',
    kind: 'string',
    default: './.pushci',
    doc: 'Workspaces, git mirrors and the embedded Redis (data, password); created `0700`.',
  },
  ...FORGE_SETTINGS,
  {
    key: 'dedupeWindowMs',
    env: 'PUSHCI_DEDUPE_WINDOW',
    flag: 'dedupe-window',
    kind: 'duration',
    default: '7d',
    doc: 'How long a delivery id is remembered, so a redelivered or doubly received webhook creates no second build.',
  },
  {
    key: 'rateLimit',
    env: 'PUSHCI_RATE_LIMIT',
    flag: 'rate-limit',
    kind: 'int',
    default: '0',
    doc: 'Failed webhook authentications (401s) per minute one client address may cause (0: no limit); over it, its failures are answered 429 with Retry-After. Valid signed deliveries are never limited.',
  },
  {
    key: 'requestTimeoutMs',
    env: 'PUSHCI_REQUEST_TIMEOUT_MS',
    flag: 'request-timeout-ms',
    kind: 'int',
    default: '30000',
    doc: 'Time a client has to send a whole request (headers: at most 10 s of it); stops slow-loris clients.',
  },
  {
    key: 'apiToken',
    env: 'PUSHCI_API_TOKEN',
    flag: 'api-token',
    kind: 'string',
    default: undefined,
    doc: 'Bearer token for `/api`, the dashboard and Bull Board. When unset, `pushci serve` generates one into `<data dir>/api-token` (mode 0600) on first start and prints a login link; the CLI reads it from there.',
  },
  {
    key: 'adminWrite',
    env: 'PUSHCI_ADMIN_WRITE',
    flag: 'admin-write',
    kind: 'bool',
    default: 'false',
    doc: 'Let Bull Board (`/admin/queues`) add, retry, promote, remove and clean jobs; read-only when false.',
  },
  {
    key: 'trustProxy',
    env: 'PUSHCI_TRUST_PROXY',
    flag: 'trust-proxy',
    kind: 'list',
    default: undefined,
    doc: 'Addresses or CIDRs of reverse proxies whose `X-Forwarded-For` is believed (the right-most untrusted hop is the client), for rate limits. Unset: the socket peer is the client.',
  },
  {
    key: 'publicUrl',
    env: 'PUSHCI_PUBLIC_URL',
    flag: 'public-url',
    kind: 'string',
    default: undefined,
    doc: 'Base URL for links in outbound payloads (default `http://localhost:<PORT>`).',
  },
  {
    key: 'notifyAllow',
    env: 'PUSHCI_NOTIFY_ALLOW',
    flag: 'notify-allow',
    kind: 'list',
    default: undefined,
    doc: 'CIDRs or host names that outbound webhooks may reach although they are internal (e.g. `127.0.0.1/32`).',
  },
  {
    key: 'notifyUrls',
    env: 'PUSHCI_NOTIFY_URLS',
    flag: 'notify-urls',
    kind: 'list',
    default: undefined,
    doc: 'Endpoints that receive build.queued/started/completed of every build, signed with PUSHCI_NOTIFY_SECRET.',
  },
  {
    key: 'notifySecrets',
    env: 'PUSHCI_NOTIFY_SECRET',
    flag: 'notify-secret',
    kind: 'list',
    default: undefined,
    doc: 'whsec_ secret(s) for PUSHCI_NOTIFY_URLS; two, comma-separated, during a rotation.',
  },
  {
    key: 'secretsKey',
    env: 'PUSHCI_SECRETS_KEY',
    flag: 'secrets-key',
    kind: 'string',
    default: undefined,
    doc: 'Key that encrypts endpoint secrets in Redis: 32 bytes in base64 (`openssl rand -base64 32`). When unset, one is generated into the data dir (`endpoint-secrets.key`, 0600); give every machine the same one.',
  },
  {
    key: 'endpointRotationOverlapMs',
    env: 'PUSHCI_ENDPOINT_ROTATION_OVERLAP',
    flag: 'endpoint-rotation-overlap',
    kind: 'duration',
    default: '24h',
    doc: 'After `rotate-secret`, how long messages carry a signature with the previous secret too.',
  },
  {
    key: 'endpointPauseRetentionMs',
    env: 'PUSHCI_ENDPOINT_PAUSE_RETENTION',
    flag: 'endpoint-pause-retention',
    kind: 'duration',
    default: '3d',
    doc: 'How long a paused endpoint (`on_pause: keep`) keeps a message for delivery on resume; older ones are dropped.',
  },
  {
    key: 'endpointDisableAfterMs',
    env: 'PUSHCI_ENDPOINT_DISABLE_AFTER',
    flag: 'endpoint-disable-after',
    kind: 'duration',
    default: '5d',
    doc: 'A registered endpoint whose every attempt failed for this long is disabled (and `endpoint.disabled` sent to PUSHCI_NOTIFY_URLS).',
  },
  {
    key: 'notifyTimeoutMs',
    env: 'PUSHCI_NOTIFY_TIMEOUT_MS',
    flag: 'notify-timeout-ms',
    kind: 'int',
    default: '15000',
    doc: 'Timeout of one outbound delivery attempt.',
  },
  {
    key: 'notifyEndpointConcurrency',
    env: 'PUSHCI_NOTIFY_ENDPOINT_CONCURRENCY',
    flag: 'notify-endpoint-concurrency',
    kind: 'int',
    default: '4',
    doc: 'Attempts at one new or slow endpoint (over 1 s an attempt) a worker process makes at once, of its PUSHCI_NOTIFY_CONCURRENCY delivery slots; a fast one may use all but this many. A receiver that hangs cannot hold up the others.',
  },
  {
    key: 'notifyConcurrency',
    env: 'PUSHCI_NOTIFY_CONCURRENCY',
    flag: 'notify-concurrency',
    kind: 'int',
    default: '64',
    doc: 'Outbound delivery attempts one worker process makes at once (its delivery slots). Each mostly waits on the receiver and on Redis, so many are cheap.',
  },
  {
    key: 'notifyRetrySchedule',
    env: 'PUSHCI_NOTIFY_RETRY_SCHEDULE',
    flag: 'notify-retry-schedule',
    kind: 'list',
    default: '0,5s,5m,30m,2h,5h,10h,10h',
    doc: 'Delays before each delivery attempt (±20% jitter); the number of entries is the number of attempts.',
  },
  {
    key: 'concurrency',
    env: 'PUSHCI_CONCURRENCY',
    flag: 'concurrency',
    kind: 'int',
    default: '2',
    doc: 'Jobs one worker process runs at once.',
  },
  {
    key: 'runnerLabels',
    env: 'PUSHCI_RUNNER_LABELS',
    flag: 'runner-labels',
    kind: 'list',
    default: undefined,
    doc: 'Labels this worker offers to `runs-on` (e.g. `linux,x64,gpu`); a job runs only on a worker with all the labels it asks for. Unset: `self-hosted`, the OS (`linux`, `macos`, `windows`) and the architecture (`x64`, `arm64`).',
  },
  {
    key: 'actionsUrl',
    env: 'PUSHCI_ACTIONS_URL',
    flag: 'actions-url',
    kind: 'string',
    default: 'https://github.com',
    doc: 'Where workers fetch `uses: owner/repo@ref` actions by git: `<url>/<owner>/<repo>` (or `.git`); an https URL, a `file://` URL or a folder.',
  },
  {
    key: 'actionsAllow',
    env: 'PUSHCI_ACTIONS_ALLOW',
    flag: 'actions-allow',
    kind: 'list',
    default: undefined,
    doc: 'Owners whose actions may run (e.g. `actions,octo-org`); unset: any owner. `actions/checkout` is built in and always allowed.',
  },
  {
    key: 'actionsCacheBytes',
    env: 'PUSHCI_ACTIONS_CACHE_BYTES',
    flag: 'actions-cache-bytes',
    kind: 'size',
    default: '2G',
    doc: 'Total size of the fetched actions a worker keeps under `<data dir>/actions`; past it the least recently used go first, never one a running job holds (0: no cap).',
  },
  {
    key: 'actionsNode',
    env: 'PUSHCI_ACTIONS_NODE',
    flag: 'actions-node',
    kind: 'string',
    default: undefined,
    doc: 'The Node that runs node actions (`runs.using: node12`…`node24`), shown read-only to the steps; unset: the Node running pushci.',
  },
  {
    key: 'runsOnAliases',
    env: 'PUSHCI_RUNS_ON_ALIASES',
    flag: 'runs-on-aliases',
    kind: 'list',
    default: undefined,
    doc: 'More `runs-on` names mapped to labels, as `name=label+label` (e.g. `big-runner=linux+x64+gpu`). Built in: `ubuntu-*` → `linux`, `macos-*` → `macos`, `windows-*` → `windows`.',
  },
  {
    key: 'jobTimeoutMinutes',
    env: 'PUSHCI_JOB_TIMEOUT_MINUTES',
    flag: 'job-timeout-minutes',
    kind: 'int',
    default: '60',
    doc: 'Timeout of a job that sets no `timeout-minutes`.',
  },
  {
    key: 'killGraceMs',
    env: 'PUSHCI_KILL_GRACE_MS',
    flag: 'kill-grace-ms',
    kind: 'int',
    default: '5000',
    doc: 'After SIGTERM, how long a step’s processes get before SIGKILL.',
  },
  {
    key: 'shutdownGraceMs',
    env: 'PUSHCI_SHUTDOWN_GRACE_MS',
    flag: 'shutdown-grace-ms',
    kind: 'int',
    default: '30000',
    doc: 'On SIGTERM, how long running jobs may finish before they are cancelled (reason: shutdown); 5 s later the process exits even if something still waits (e.g. for an unreachable Redis).',
  },
  {
    key: 'lockMs',
    env: 'PUSHCI_LOCK_MS',
    flag: 'lock-ms',
    kind: 'int',
    default: '30000',
    doc: 'How long a silent worker keeps its job; after that the job counts as stalled and runs again elsewhere (once).',
  },
  {
    key: 'logMaxBytes',
    env: 'PUSHCI_LOG_MAX_BYTES',
    flag: 'log-max-bytes',
    kind: 'int',
    default: String(10 * MiB),
    doc: 'Cap of one job’s log; the log says where it was cut.',
  },
  {
    key: 'runner',
    env: 'PUSHCI_RUNNER',
    flag: 'runner',
    kind: 'string',
    default: 'auto',
    doc: 'Where steps run: `sandbox` (Linux namespaces via bubblewrap; refuses to start without them), `host` (no isolation), or `auto` (sandbox when the machine supports it, else host with a warning and every build marked `unsandboxed`).',
  },
  {
    key: 'forkPullRequests',
    env: 'PUSHCI_FORK_PULL_REQUESTS',
    flag: 'fork-pull-requests',
    kind: 'string',
    default: 'approve',
    doc: 'Pull requests from forks: `approve` (wait as `pending-approval` until someone approves), `run`, or `never`; a pipeline’s `pull-requests.forks` wins. Fork builds never get secrets.',
  },
  {
    key: 'jobProcesses',
    env: 'PUSHCI_JOB_PROCESSES',
    flag: 'job-processes',
    kind: 'int',
    default: '4096',
    doc: 'Processes and threads one sandboxed job may have at once (0: no limit).',
  },
  {
    key: 'jobMemory',
    env: 'PUSHCI_JOB_MEMORY',
    flag: 'job-memory',
    kind: 'size',
    default: '8G',
    doc: 'Memory of one sandboxed job (`512M`, `8G`; 0: no limit): all its processes together with cgroups, each process without.',
  },
  {
    key: 'jobDisk',
    env: 'PUSHCI_JOB_DISK',
    flag: 'job-disk',
    kind: 'size',
    default: '20G',
    doc: 'Disk a sandboxed job may fill in its workspace, /tmp and $HOME together (0: no limit).',
  },
  {
    key: 'jobOpenFiles',
    env: 'PUSHCI_JOB_OPEN_FILES',
    flag: 'job-open-files',
    kind: 'int',
    default: '65536',
    doc: 'Open files per process of a sandboxed job (0: leave the rlimit alone).',
  },
  {
    key: 'jobTimings',
    env: 'PUSHCI_JOB_TIMINGS',
    flag: 'job-timings',
    kind: 'bool',
    default: 'false',
    doc: 'Log where each job’s milliseconds go: one `job timings` line per job (dequeue, state writes, checkout, sandbox start, step, log flush, cleanup, status).',
  },
  {
    key: 'keepWorkspaces',
    env: 'PUSHCI_KEEP_WORKSPACES',
    flag: 'keep-workspaces',
    kind: 'bool',
    default: 'false',
    doc: 'Keep job workspaces after the job (for debugging).',
  },
  {
    key: 'cacheMaxBytes',
    env: 'PUSHCI_CACHE_MAX_BYTES',
    flag: 'cache-max-bytes',
    kind: 'size',
    default: '10G',
    doc: 'Total size of the caches the server keeps (`cache:` and the actions/cache protocol); past it the least recently used go. Caches unused for 7 days go too.',
  },
  {
    key: 'artifactRetentionMs',
    env: 'PUSHCI_ARTIFACT_RETENTION',
    flag: 'artifact-retention',
    kind: 'duration',
    default: '30d',
    doc: 'How long build artifacts are kept.',
  },
  {
    key: 'artifactMaxBytes',
    env: 'PUSHCI_ARTIFACT_MAX_BYTES',
    flag: 'artifact-max-bytes',
    kind: 'size',
    default: '2G',
    doc: 'Largest artifact (compressed) a job may upload.',
  },
  {
    key: 'artifactTotalBytes',
    env: 'PUSHCI_ARTIFACT_TOTAL_BYTES',
    flag: 'artifact-total-bytes',
    kind: 'size',
    default: '0',
    doc: 'Total size of all builds’ artifacts the server keeps; past it the oldest go first (0: no total cap, only the retention).',
  },
  {
    key: 'artifactUrlTtlMs',
    env: 'PUSHCI_ARTIFACT_URL_TTL',
    flag: 'artifact-url-ttl',
    kind: 'duration',
    default: '6h',
    doc: 'How long a signed upload or download URL of the artifact protocol (`@actions/artifact`) stays valid; each is for one job and one artifact.',
  },
  {
    key: 'maxBodyBytes',
    env: 'PUSHCI_MAX_BODY_BYTES',
    flag: 'max-body-bytes',
    kind: 'int',
    default: String(25 * MiB),
    doc: 'Largest webhook body accepted (GitHub’s own cap is 25 MiB).',
  },
  {
    key: 'maxIntakeBytes',
    env: 'PUSHCI_MAX_INTAKE_BYTES',
    flag: 'max-intake-bytes',
    kind: 'int',
    default: String(64 * MiB),
    doc: 'Total bytes of webhook bodies the receiver holds before their signatures are checked; beyond it, 503 with Retry-After. At least PUSHCI_MAX_BODY_BYTES.',
  },

  {
    key: 'queuePrefix',
    env: 'PUSHCI_QUEUE_PREFIX',
    flag: 'queue-prefix',
    kind: 'string',
    default: 'pushci',
    doc: 'Prefix of every Redis key; use `{pushci}` on Redis Cluster.',
  },
  {
    key: 'retentionMs',
    env: 'PUSHCI_RETENTION',
    flag: 'retention',
    kind: 'duration',
    default: '30d',
    doc: 'Finished builds older than this are removed with their logs and delivery records.',
  },
  {
    key: 'retentionBuilds',
    env: 'PUSHCI_RETENTION_BUILDS',
    flag: 'retention-builds',
    kind: 'int',
    default: '100000',
    doc: 'At most this many builds are kept; the oldest finished ones go first.',
  },
  {
    key: 'webhookLogMax',
    env: 'PUSHCI_WEBHOOK_LOG_MAX',
    flag: 'webhook-log-max',
    kind: 'int',
    default: '1000',
    doc: 'How many received webhooks the "why" view keeps (each a short record, no payload; also gone after `PUSHCI_RETENTION`).',
  },
  {
    key: 'repairIntervalMs',
    env: 'PUSHCI_REPAIR_INTERVAL',
    flag: 'repair-interval',
    kind: 'duration',
    default: '30s',
    doc: 'How often builds a crashed process left half done are finished (missing build.completed, lost queue entries).',
  },
  {
    key: 'recoverIntervalMs',
    env: 'PUSHCI_RECOVER_INTERVAL',
    flag: 'recover-interval',
    kind: 'duration',
    default: '0',
    doc: 'Run `pushci recover` for the GitHub pipelines this often (0: never); needs GITHUB_TOKEN.',
  },
  {
    key: 'serverUrl',
    env: 'PUSHCI_URL',
    flag: 'url',
    kind: 'string',
    default: undefined,
    doc: 'Where `pushci builds|logs|trigger|redeliver|artifacts` and workers (for caches and artifacts) find the server (default `http://localhost:<PORT>`).',
  },
  {
    key: 'logLevel',
    env: 'PUSHCI_LOG_LEVEL',
    flag: 'log-level',
    kind: 'string',
    default: 'info',
    doc: 'pino log level (`debug`, `info`, `warn`, `error`, `silent`).',
  },
];

/** The whole configuration, read once at the edge and passed down. */
export interface Config {
  port: number;
  host: string | undefined;
  redisUrl: string | undefined;
  pipelinesDir: string;
  dataDir: string;
  githubSecrets: string[];
  gitlabTokens: string[];
  gitlabSigningTokens: string[];
  giteaSecrets: string[];
  forgejoSecrets: string[];
  bitbucketSecrets: string[];
  /** How long a delivery id is remembered, in ms. */
  dedupeWindowMs: number;
  rateLimit: number;
  requestTimeoutMs: number;
  apiToken: string | undefined;
  adminWrite: boolean;
  /** Proxies whose X-Forwarded-For is believed: addresses and CIDRs. */
  trustProxy: string[];
  publicUrl: string;
  notifyAllow: string[];
  notifyUrls: string[];
  notifySecrets: string[];
  secretsKey: string | undefined;
  endpointRotationOverlapMs: number;
  endpointPauseRetentionMs: number;
  endpointDisableAfterMs: number;
  githubToken: string | undefined;
  gitlabToken: string | undefined;
  giteaToken: string | undefined;
  forgejoToken: string | undefined;
  bitbucketToken: string | undefined;
  githubApiUrl: string;
  bitbucketApiUrl: string;
  gitlabApiUrl: string;
  notifyTimeoutMs: number;
  notifyEndpointConcurrency: number;
  notifyConcurrency: number;
  /** Delay in ms before each delivery attempt; its length is the number of attempts. */
  notifyRetrySchedule: number[];
  githubUrl: string;
  gitlabUrl: string;
  giteaUrl: string;
  forgejoUrl: string;
  bitbucketUrl: string;
  concurrency: number;
  /** Labels this worker offers; empty: the machine's (see workerLabels). */
  runnerLabels: string[];
  /** Extra `name=label+label` entries of the runs-on alias table. */
  runsOnAliases: string[];
  /** Base URL of remote actions' repositories. */
  actionsUrl: string;
  /** Owners whose actions may run; empty: any. */
  actionsAllow: string[];
  /** Bytes; 0 for no cap. */
  actionsCacheBytes: number;
  /** The node binary for node actions; undefined: process.execPath. */
  actionsNode: string | undefined;
  jobTimeoutMinutes: number;
  killGraceMs: number;
  shutdownGraceMs: number;
  lockMs: number;
  logMaxBytes: number;
  runner: 'auto' | 'sandbox' | 'host';
  forkPullRequests: 'run' | 'approve' | 'never';
  jobProcesses: number;
  /** Bytes. */
  jobMemory: number;
  /** Bytes. */
  jobDisk: number;
  jobOpenFiles: number;
  /** Log a `job timings` line per job (PUSHCI_JOB_TIMINGS). */
  jobTimings: boolean;
  keepWorkspaces: boolean;
  /** Bytes. */
  cacheMaxBytes: number;
  artifactRetentionMs: number;
  /** Bytes. */
  artifactMaxBytes: number;
  /** Bytes; 0 for no total cap. */
  artifactTotalBytes: number;
  artifactUrlTtlMs: number;
  maxBodyBytes: number;
  maxIntakeBytes: number;
  queuePrefix: string;
  retentionMs: number;
  retentionBuilds: number;
  webhookLogMax: number;
  recoverIntervalMs: number;
  repairIntervalMs: number;
  serverUrl: string;
  logLevel: string;
  /** The server's environment, for `${{ env.NAME }}` and `${{ secrets.NAME }}` in pipeline files. */
  env: Readonly<Record<string, string>>;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i;
const SIZE_UNIT: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses `512M`, `8G`, `8GiB` or a bare number of bytes (binary units). */
export function parseSize(text: string): number {
  const m = SIZE.exec(text.trim());
  if (!m) throw new ConfigError(`"${text}" is not a size (use e.g. 512M, 8G or bytes)`);
  return Math.round(Number(m[1]) * SIZE_UNIT[(m[2] ?? '').charAt(0).toLowerCase()]!);
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `250ms`, `5s`, `5m`, `2h`, `7d` or a bare number of milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new ConfigError(`"${text}" is not a duration (use e.g. 500ms, 5s, 5m, 2h)`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!);
}

function convert(s: Setting, raw: string): unknown {
  const where = `${s.env} (--${s.flag})`;
  switch (s.kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${where} must be a whole number, got "${raw}"`);
      return Number(raw);
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['', '0', 'false', 'no', 'off'].includes(v)) return false;
      throw new ConfigError(`${where} must be true or false, got "${raw}"`);
    }
    case 'duration':
      return parseDuration(raw);
    case 'size':
      try {
        return parseSize(raw);
      } catch (e) {
        throw new ConfigError(`${where}: ${(e as Error).message}`);
      }
    case 'list':
      return raw
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
  }
}

/**
 * Builds the configuration from the environment and CLI flags (flags win). The only place that reads
 * the environment; tests pass their own.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  flags: Record<string, string | boolean | undefined> = {},
): Readonly<Config> {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const flag = flags[s.flag];
    const raw = flag === undefined ? (env[s.env] ?? s.default) : String(flag);
    out[s.key] = raw === undefined ? (s.kind === 'list' ? [] : undefined) : convert(s, raw);
  }
  const c = out as unknown as Config;
  if (c.port > 65535) throw new ConfigError(`PORT must be at most 65535, got ${c.port}`);
  if (c.concurrency < 1) throw new ConfigError('PUSHCI_CONCURRENCY must be at least 1');
  if (c.maxIntakeBytes < c.maxBodyBytes)
    throw new ConfigError(
      `PUSHCI_MAX_INTAKE_BYTES (${c.maxIntakeBytes}) must be at least PUSHCI_MAX_BODY_BYTES (${c.maxBodyBytes}), or the largest body could never be read`,
    );
  if (c.notifyConcurrency < 1) throw new ConfigError('PUSHCI_NOTIFY_CONCURRENCY must be at least 1');
  if (c.notifyEndpointConcurrency < 1)
    throw new ConfigError('PUSHCI_NOTIFY_ENDPOINT_CONCURRENCY must be at least 1');
  if (!['auto', 'sandbox', 'host'].includes(c.runner))
    throw new ConfigError(`PUSHCI_RUNNER must be auto, sandbox or host, got "${c.runner}"`);
  if (!['run', 'approve', 'never'].includes(c.forkPullRequests))
    throw new ConfigError(
      `PUSHCI_FORK_PULL_REQUESTS must be approve, run or never, got "${c.forkPullRequests}"`,
    );
  if (c.actionsNode !== undefined && !c.actionsNode.startsWith('/'))
    throw new ConfigError(`PUSHCI_ACTIONS_NODE must be an absolute path, got "${c.actionsNode}"`);
  c.actionsUrl = c.actionsUrl.replace(/\/+$/, '');
  c.pipelinesDir = resolve(c.pipelinesDir);
  c.dataDir = resolve(c.dataDir);
  c.publicUrl = (c.publicUrl ?? `http://localhost:${c.port}`).replace(/\/+$/, '');
  c.serverUrl = (c.serverUrl ?? `http://localhost:${c.port}`).replace(/\/+$/, '');
  c.notifyRetrySchedule = (out.notifyRetrySchedule as string[]).map(parseDuration);
  if (c.notifyUrls.length > 0 && c.notifySecrets.length === 0) {
    throw new ConfigError(
      'PUSHCI_NOTIFY_URLS is set but PUSHCI_NOTIFY_SECRET is not: set a whsec_ secret to sign with',
    );
  }
  if (c.notifySecrets.length > 2)
    throw new ConfigError('PUSHCI_NOTIFY_SECRET takes at most two secrets (during a rotation)');
  for (const s of c.notifySecrets)
    if (!s.startsWith('whsec_')) throw new ConfigError('PUSHCI_NOTIFY_SECRET must be whsec_ secrets');
  if (c.notifyRetrySchedule.length === 0)
    throw new ConfigError('PUSHCI_NOTIFY_RETRY_SCHEDULE needs at least one entry');
  const copy: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) copy[k] = v;
  c.env = Object.freeze(copy);
  return Object.freeze(c);
}
