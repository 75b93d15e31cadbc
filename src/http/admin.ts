import type { Queue } from 'bullmq';
import type { Context, Middleware, Next } from 'koa';
import { AdminReadOnlyError } from '../errors.ts';

const READS = new Set(['GET', 'HEAD']);

/**
 * Bull Board at /admin/queues, for people who know BullMQ (mounted behind the API's auth). Loaded on
 * first use: its UI and dependencies cost the receiver memory most installations never need.
 * Read-only unless `write` (PUSHCI_ADMIN_WRITE): adding, retrying, promoting, removing or cleaning jobs
 * by hand bypasses everything pushci checks on the way in, so it is refused here, before Bull Board sees
 * the request, as well as in Bull Board's own read-only mode.
 */
export function bullBoard(queues: Queue[], opts: { write: boolean }): Middleware {
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
      queues: queues.map((q) => new BullMQAdapter(q as never, { readOnlyMode: !opts.write })),
      serverAdapter: adapter as never,
    });
    return adapter.registerPlugin() as Middleware;
  };
  return async (ctx: Context, next: Next) => {
    if (!opts.write && !READS.has(ctx.method))
      throw new AdminReadOnlyError(
        'Bull Board is read-only; set PUSHCI_ADMIN_WRITE=true to change queues by hand',
      );
    return (await (plugin ??= load()))(ctx, next);
  };
}
