import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type { Middleware } from 'koa';

/** Bull Board at /admin/queues, for people who know BullMQ (mounted behind the API's auth). */
export function bullBoard(queues: Queue[]): Middleware {
  const adapter = new KoaAdapter();
  adapter.setBasePath('/admin/queues');
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q as never)),
    serverAdapter: adapter as never,
  });
  return adapter.registerPlugin() as Middleware;
}
