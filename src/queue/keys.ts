import { hash } from 'node:crypto';

/**
 * Every Redis key pushci writes, all under one prefix (`{pushci}` on Redis Cluster keeps them in one
 * slot). Nothing else builds key names: test/integration/key-map.test.ts fails on a key it cannot find
 * here. (BullMQ's own keys, `<prefix>:<queue>:…`, are BullMQ's.)
 */
export interface Keys {
  prefix: string;
  build(id: string): string;
  sequence(pipeline: string): string;
  index: string;
  /** Builds whose outcome has not been fully announced yet (not final, or final without build.completed queued). */
  active: string;
  log(buildId: string, job: string): string;
  group(name: string): string;
  /** Builds of one pipeline, by creation time. */
  pipelineIndex(pipeline: string): string;
  /** A pipeline definition as builds snapshot it, by content hash (shared by every build of that version). */
  pipelineSnapshot(ref: string): string;
  /** Snapshot refs by the creation time of the newest build that uses them (retention drops unused ones). */
  snapshots: string;
  /** Live build events for dashboards (pub/sub). */
  eventsChannel: string;
  /** Appends to job logs (pub/sub; the message is the log's key): followers read as soon as lines are stored. */
  logAppendsChannel: string;
  /** Cluster-wide counters for /metrics. */
  stats(what: 'builds' | 'deliveries' | 'jobs'): string;
  /** Last status per pipeline and branch, for badges. */
  badges: string;
  slots(pipeline: string): string;
  cancelChannel: string;
  /** An endpoint registered through the API (a hash; its secrets encrypted). */
  endpoint(id: string): string;
  /** Ids of the registered endpoints, by creation time. */
  endpoints: string;
  /** Bumped on every change to a registered endpoint, so processes know their cached list is stale. */
  endpointsVersion: string;
  /** The id of the key the endpoint secrets are encrypted with (never the key). */
  endpointsKeyId: string;
  /** Messages held for a paused endpoint, by the time they were held. */
  endpointHeld(id: string): string;
  /** Delivery counters and the last success and failure of any endpoint (API, pipeline or global). */
  endpointStats(id: string): string;
  /** Attempts per hour of one UTC day (`YYYYMMDD`), for the success rate and the chart. */
  endpointHourly(id: string, day: string): string;
  /** Deliveries to one endpoint, by the time of their latest attempt. */
  endpointDeliveries(id: string): string;
  /** The last good version of each pipeline file (a hash by file name), for restarts with a broken file. */
  lastGoodPipelines: string;
  /** The build a schedule started last (`<pipeline>#<n>`), to skip a commit it already built. */
  scheduleLast(scheduler: string): string;
  /** What a schedule's latest tick did (JSON: when, and the build it started or why it started none). */
  scheduleTick(scheduler: string): string;
  /**
   * Exactly-once intake: remembers a delivery id for the window. The check and the record happen inside
   * the script that stores the builds (BuildStore.create), so a second receipt of a delivery, here or at
   * another instance at the same moment, can never create a build. Hashed: the id is the forge's.
   */
  seen(forge: string, deliveryId: string): string;
  /**
   * Replay defence: remembers the exact verified body of a delivery per forge and repository for
   * PUSHCI_REPLAY_WINDOW. Forges sign only the body, so a captured delivery resent with a fresh delivery
   * id is the same bytes; checked and recorded with `seen` in the same script.
   */
  seenBody(forge: string, repository: string, bodyDigest: string): string;
  /** A key no script reads or writes, passed where a script's key list needs a slot-local filler. */
  unused: string;
  /** One outbound message's record (a hash: type, build, endpoint, state, attempts). */
  delivery(msgId: string): string;
  /** The attempts of one outbound message (a list of JSON). */
  deliveryAttempts(msgId: string): string;
  /** The outbound messages of one build, by the time of their latest attempt. */
  buildDeliveries(buildId: string): string;
  /** The latest outbound messages of any build (bounded). */
  recentDeliveries: string;
  /** Pipeline and global endpoints disabled by a 410 Gone, with why (a hash by endpoint id). */
  endpointsDisabled: string;
  /** The random key that seals delivery jobs pushci queued itself. */
  deliverySealKey: string;
  /** A worker process's heartbeat record (expiring). */
  worker(id: string): string;
  /** Worker ids by their last heartbeat. */
  workers: string;
  /** One received webhook's record (the "why" view). */
  webhook(id: string): string;
  /** Received webhooks by arrival time. */
  webhooks: string;
  /** The artifacts of one build (a hash by name). */
  artifacts(buildId: string): string;
  /** Builds with artifacts, by when they expire. */
  artifactsExpiry: string;
  /** Uploads of one build begun by the artifact protocol (a hash by name), not yet finalized. */
  artifactUploads(buildId: string): string;
  /** The counter artifact ids come from. */
  artifactIds: string;
  /** Every stored artifact (`<build id>\n<name>`) by when it was stored, for the total cap. */
  artifactsByAge: string;
  /** Bytes all stored artifacts hold. */
  artifactBytes: string;
  /** The key artifact protocol URLs are signed with (made once, shared by every server process). */
  artifactUrlKey: string;
  /** The caches of one repository and ref (hashed: both are the user's). */
  cacheScope(repository: string, ref: string): string;
  /** One cache entry's record. */
  cacheEntry(id: string): string;
  /** Cache entries by last use, for eviction. */
  cacheLru: string;
  /** Bytes the caches hold. */
  cacheBytes: string;
  /** Bytes reserved by uploads in progress. */
  cacheReserved: string;
  /** A running job's credential, by the hash of its token (never the token). */
  jobCredential(tokenHash: string): string;
}

/**
 * A name of any length and content as 32 hex characters (group names and delivery ids are the user's).
 * The one-shot `hash` makes no Hash object: on a delivery id it takes a tenth of createHash's time, and
 * every webhook names two or three such keys.
 */
function hashed(name: string): string {
  return hash('sha256', name).slice(0, 32);
}

export function keys(prefix: string): Keys {
  return {
    prefix,
    build: (id) => `${prefix}:build:${id}`,
    sequence: (pipeline) => `${prefix}:seq:${pipeline}`,
    index: `${prefix}:index:builds`,
    active: `${prefix}:index:active`,
    log: (buildId, job) => `${prefix}:log:${buildId}:${job}`,
    group: (name) => `${prefix}:group:${hashed(name)}`,
    slots: (pipeline) => `${prefix}:slots:${pipeline}`,
    pipelineIndex: (pipeline) => `${prefix}:index:pipeline:${pipeline}`,
    pipelineSnapshot: (ref) => `${prefix}:def:${ref}`,
    snapshots: `${prefix}:index:defs`,
    eventsChannel: `${prefix}:events`,
    logAppendsChannel: `${prefix}:log-appends`,
    stats: (what) => `${prefix}:stats:${what}`,
    badges: `${prefix}:badges`,
    cancelChannel: `${prefix}:cancel`,
    endpoint: (id) => `${prefix}:endpoint:${id}`,
    endpoints: `${prefix}:index:endpoints`,
    endpointsVersion: `${prefix}:endpoints:version`,
    endpointsKeyId: `${prefix}:endpoints:key-id`,
    endpointHeld: (id) => `${prefix}:endpoint:${id}:held`,
    endpointStats: (id) => `${prefix}:epstats:${id}`,
    endpointHourly: (id, day) => `${prefix}:epstats:${id}:${day}`,
    endpointDeliveries: (id) => `${prefix}:deliveries:endpoint:${id}`,
    lastGoodPipelines: `${prefix}:pipelines:last-good`,
    scheduleLast: (scheduler) => `${prefix}:schedule:last:${scheduler}`,
    scheduleTick: (scheduler) => `${prefix}:schedule:tick:${scheduler}`,
    seen: (forge, deliveryId) => `${prefix}:seen:${forge}:${hashed(deliveryId)}`,
    seenBody: (forge, repository, bodyDigest) =>
      `${prefix}:seen-body:${forge}:${hash('sha256', `${repository}\n${bodyDigest}`)}`,
    unused: `${prefix}:-`,
    delivery: (msgId) => `${prefix}:delivery:${msgId}`,
    deliveryAttempts: (msgId) => `${prefix}:delivery:${msgId}:attempts`,
    buildDeliveries: (buildId) => `${prefix}:deliveries:${buildId}`,
    recentDeliveries: `${prefix}:deliveries:recent`,
    endpointsDisabled: `${prefix}:endpoints:disabled`,
    deliverySealKey: `${prefix}:delivery-seal-key`,
    worker: (id) => `${prefix}:worker:${id}`,
    workers: `${prefix}:index:workers`,
    webhook: (id) => `${prefix}:webhook:${id}`,
    webhooks: `${prefix}:index:webhooks`,
    artifacts: (buildId) => `${prefix}:artifacts:${buildId}`,
    artifactsExpiry: `${prefix}:artifacts:expiry`,
    artifactUploads: (buildId) => `${prefix}:artifact-uploads:${buildId}`,
    artifactIds: `${prefix}:artifact-ids`,
    artifactsByAge: `${prefix}:artifact-age`,
    artifactBytes: `${prefix}:artifact-bytes`,
    artifactUrlKey: `${prefix}:artifact-url-key`,
    cacheScope: (repository, ref) =>
      `${prefix}:cache:scope:${hash('sha256', `${repository}\n${ref}`).slice(0, 40)}`,
    cacheEntry: (id) => `${prefix}:cache:entry:${id}`,
    cacheLru: `${prefix}:cache:lru`,
    cacheBytes: `${prefix}:cache:bytes`,
    cacheReserved: `${prefix}:cache:reserved`,
    jobCredential: (tokenHash) => `${prefix}:jobcred:${tokenHash}`,
  };
}

/** BullMQ queue names (BullMQ puts them under the same prefix). */
export const JOBS_QUEUE = 'jobs';
export const DELIVERIES_QUEUE = 'deliveries';
export const SCHEDULES_QUEUE = 'schedules';
