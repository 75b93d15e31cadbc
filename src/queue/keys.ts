import { createHash } from 'node:crypto';

/** Redis key names, all under one prefix (`{pushci}` on Redis Cluster keeps them in one slot). */
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
}

export function keys(prefix: string): Keys {
  return {
    prefix,
    build: (id) => `${prefix}:build:${id}`,
    sequence: (pipeline) => `${prefix}:seq:${pipeline}`,
    index: `${prefix}:index:builds`,
    active: `${prefix}:index:active`,
    log: (buildId, job) => `${prefix}:log:${buildId}:${job}`,
    group: (name) => `${prefix}:group:${createHash('sha256').update(name).digest('hex').slice(0, 32)}`,
    slots: (pipeline) => `${prefix}:slots:${pipeline}`,
    pipelineIndex: (pipeline) => `${prefix}:index:pipeline:${pipeline}`,
    pipelineSnapshot: (ref) => `${prefix}:def:${ref}`,
    snapshots: `${prefix}:index:defs`,
    eventsChannel: `${prefix}:events`,
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
  };
}

/** BullMQ queue names (BullMQ puts them under the same prefix). */
export const JOBS_QUEUE = 'jobs';
export const DELIVERIES_QUEUE = 'deliveries';
export const SCHEDULES_QUEUE = 'schedules';
