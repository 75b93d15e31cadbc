import type { Queue } from 'bullmq';
import type { Context } from 'koa';
import type { Redis } from 'ioredis';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { Keys } from '../queue/keys.ts';
import { JOB_BUCKETS } from '../queue/build-stats.ts';

export interface MetricsDeps {
  redis: Redis;
  keys: Keys;
  jobs: Queue;
  deliveries: Queue;
}

/**
 * `/metrics` in Prometheus' text format. Process metrics and webhook counts are this process's (one
 * series per instance); builds, job durations, queue depth and deliveries come from Redis, so every
 * instance reports the whole cluster's.
 */
export function createMetrics(deps: MetricsDeps) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pushci_' });
  const webhooks = new Counter({
    name: 'pushci_webhooks_received_total',
    help: 'Webhooks received, by forge and HTTP status of the answer',
    labelNames: ['forge', 'status'],
    registers: [registry],
  });

  // One bound child per forge and status: labels are hashed once, not on every webhook.
  const bound = new Map<string, { inc(): void }>();
  /** Counts one answer of the webhook route, errors included (`forge`: a known forge name or `unknown`). */
  const webhookAnswered = (forge: string, status: number) => {
    const key = `${forge} ${status}`;
    let child = bound.get(key);
    if (!child) bound.set(key, (child = webhooks.labels({ forge, status: String(status) })));
    child.inc();
  };

  const handler = async (ctx: Context) => {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    let up = 1;
    try {
      const [builds, jobs, deliveries, active, jobCounts, deliveryCounts] = await Promise.all([
        deps.redis.hgetall(deps.keys.stats('builds')),
        deps.redis.hgetall(deps.keys.stats('jobs')),
        deps.redis.hgetall(deps.keys.stats('deliveries')),
        deps.redis.zcard(deps.keys.active),
        deps.jobs.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized'),
        deps.deliveries.getJobCounts('waiting', 'active', 'delayed', 'failed'),
      ]);
      metric('pushci_builds_completed_total', 'counter', 'Builds that reached a final status, by status');
      for (const [status, n] of Object.entries(builds))
        lines.push(`pushci_builds_completed_total{status="${status}"} ${n}`);
      metric('pushci_builds_active', 'gauge', 'Builds queued or running (or finishing)');
      lines.push(`pushci_builds_active ${active}`);
      metric('pushci_queue_jobs', 'gauge', 'Jobs in the BullMQ queues, by queue and state');
      for (const [state, n] of Object.entries(jobCounts))
        lines.push(`pushci_queue_jobs{queue="jobs",state="${state}"} ${n}`);
      for (const [state, n] of Object.entries(deliveryCounts))
        lines.push(`pushci_queue_jobs{queue="deliveries",state="${state}"} ${n}`);
      metric('pushci_job_duration_seconds', 'histogram', 'Durations of finished jobs');
      let cumulative = 0;
      for (const le of [...JOB_BUCKETS, Infinity]) {
        cumulative += Number(jobs[`le:${le}`] ?? 0);
        lines.push(`pushci_job_duration_seconds_bucket{le="${le === Infinity ? '+Inf' : le}"} ${cumulative}`);
      }
      lines.push(
        `pushci_job_duration_seconds_sum ${Number(jobs.sum ?? 0)}`,
        `pushci_job_duration_seconds_count ${Number(jobs.count ?? 0)}`,
      );
      metric('pushci_delivery_attempts_total', 'counter', 'Outbound delivery attempts');
      lines.push(`pushci_delivery_attempts_total ${Number(deliveries.attempts ?? 0)}`);
      metric(
        'pushci_deliveries_total',
        'counter',
        'Outbound delivery attempts by outcome (delivered, retrying, failed), and messages held or dropped for paused endpoints',
      );
      for (const state of ['delivered', 'retrying', 'failed', 'held', 'dropped'])
        lines.push(`pushci_deliveries_total{outcome="${state}"} ${Number(deliveries[state] ?? 0)}`);
    } catch {
      up = 0;
    }
    metric('pushci_redis_up', 'gauge', 'Whether Redis answered this scrape');
    lines.push(`pushci_redis_up ${up}`);
    ctx.type = registry.contentType;
    ctx.body = `${await registry.metrics()}\n${lines.join('\n')}\n`;
  };
  return { webhookAnswered, handler };
}
