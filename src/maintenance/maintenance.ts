import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { GithubClient } from '../forges/github/api-client.ts';
import { githubRepositories, recoverDeliveries } from '../forges/github/recover.ts';
import type { Logger } from '../log.ts';
import { logErrors } from '../log-errors.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import type { Stack } from '../stack.ts';
import { applyRetention } from './retention.ts';
import { CACHE_UNUSED_MS, createFileStores } from '../artifacts/file-stores.ts';

export const MAINTENANCE_QUEUE = 'maintenance';

/**
 * Periodic housekeeping as BullMQ job schedulers: each runs once per period however many pushci
 * processes share the Redis. Repair of builds a crashed process left half done every
 * PUSHCI_REPAIR_INTERVAL; retention every 10 minutes; recovery of missed GitHub deliveries every
 * PUSHCI_RECOVER_INTERVAL when set.
 */
export async function startMaintenance(
  config: Readonly<Config>,
  connection: Redis,
  stack: Stack,
  pipelines: () => readonly Pipeline[],
  log: Logger,
): Promise<{ close(): Promise<void> }> {
  const queue = new Queue(MAINTENANCE_QUEUE, { connection, prefix: config.queuePrefix });
  logErrors(queue, log, 'maintenance queue');
  await queue.upsertJobScheduler(
    'repair',
    { every: config.repairIntervalMs },
    { name: 'repair', opts: { removeOnComplete: 10, removeOnFail: 10 } },
  );
  await queue.upsertJobScheduler(
    'retention',
    { every: 10 * 60_000 },
    { name: 'retention', opts: { removeOnComplete: 10, removeOnFail: 10 } },
  );
  if (config.recoverIntervalMs > 0 && config.githubToken) {
    await queue.upsertJobScheduler(
      'recover',
      { every: config.recoverIntervalMs },
      { name: 'recover', opts: { removeOnComplete: 10, removeOnFail: 10 } },
    );
  } else {
    await queue.removeJobScheduler('recover');
  }
  const files = createFileStores(stack.redis, config);
  const worker = new Worker(
    MAINTENANCE_QUEUE,
    async (job) => {
      if (job.name === 'repair') {
        // Builds younger than one interval may still be in the hands of the process that created them.
        const ids = await stack.store.activeBefore(Date.now() - config.repairIntervalMs, 1000);
        let repaired = 0;
        for (const id of ids) {
          const findings = await stack.lifecycle.repair(id);
          if (findings.length > 0) {
            repaired++;
            log.warn(
              { build_id: id, repaired: findings },
              'repaired a build a crashed process left half done',
            );
          }
        }
        return { checked: ids.length, repaired };
      }
      if (job.name === 'retention') {
        const r = await applyRetention(stack.redis, stack.store, stack.keys, {
          maxAgeMs: config.retentionMs,
          maxBuilds: config.retentionBuilds,
        });
        if (r.removed > 0) log.info(r, 'retention removed old builds');
        // Artifacts and caches live with this process's data dir.
        const artifacts = await files.artifacts.sweep();
        const caches = await files.caches.sweep(CACHE_UNUSED_MS);
        if (artifacts + caches > 0)
          log.info({ artifact_builds: artifacts, caches }, 'removed expired artifacts and unused caches');
        return { ...r, artifacts, caches };
      }
      if (job.name === 'recover' && config.githubToken) {
        const client = new GithubClient(config.githubApiUrl, config.githubToken);
        const since = new Date(Date.now() - 2 * config.recoverIntervalMs);
        const repos = githubRepositories(pipelines());
        for (const repo of repos) {
          const report = await recoverDeliveries(client, repo, `${config.publicUrl}/webhooks/github`, since);
          if (report.problem) log.warn({ repository: repo, problem: report.problem }, 'recover');
          else if (report.redelivered.length > 0)
            log.info(
              { repository: repo, redelivered: report.redelivered.length },
              'asked GitHub to redeliver failed deliveries',
            );
        }
      }
      return null;
    },
    { connection, prefix: config.queuePrefix, concurrency: 1 },
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'maintenance worker error'));
  return {
    async close() {
      await Promise.allSettled([worker.close(), queue.close()]);
    },
  };
}
