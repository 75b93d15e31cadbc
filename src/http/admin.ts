import type { Queue } from 'bullmq';
import type { Context, Middleware, Next } from 'koa';

/**
 * Bull Board at /admin/queues, for people who know BullMQ (mounted behind the API's auth). Loaded on
 * first use: its UI and dependencies cost the receiver memory most installations never need.
 */
export function bullBoard(queues: Queue[]): Middleware {
  let plugin: Promise<Middleware> | null = null;
  const load = async (): Promise<Middleware> => {
    const [{ createBullBoard }, { BullMQAdapter }, { KoaAdapter }] = await Promise.all([
      import('@bull-board/api'),
      import('@bull-board/api/bullMQAdapter'),
      import('@bull-board/koa'),
    ]);
    const adapter = new KoaAdapter();
    adapter.setBasePath('/admin/queues');
    createBullBoard({
      queues: queues.map((q) => new BullMQAdapter(q as never)),
      serverAdapter: adapter as never,
    });
    return adapter.registerPlugin() as Middleware;
  };
  return async (ctx: Context, next: Next) => (await (plugin ??= load()))(ctx, next);
}
