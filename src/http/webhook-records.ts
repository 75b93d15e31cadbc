import type { Context } from 'koa';
import { InvalidRequestError, NotFoundError } from '../errors.ts';
import { readCursor } from '../queue/newest-after.ts';
import type { WebhookLog } from '../queue/webhook-log.ts';

/** `GET /api/webhooks?limit=&before=`: received webhooks, newest first, each with why it did what it did. */
export function listWebhooks(webhookLog: WebhookLog) {
  return async (ctx: Context) => {
    const limit = Math.min(200, Math.max(1, Number(ctx.query.limit ?? 50) || 50));
    const before = typeof ctx.query.before === 'string' && ctx.query.before !== '' ? ctx.query.before : null;
    const cursor = before === null ? null : readCursor(before);
    if (cursor === undefined)
      throw new InvalidRequestError('bad "before"; use the "next" of the previous page');
    const page = await webhookLog.list(limit, cursor);
    ctx.body = { webhooks: page.records, next: page.next };
  };
}

/** `GET /api/webhooks/:id`: one received webhook (its id is the X-Request-Id pushci answered with). */
export function getWebhook(webhookLog: WebhookLog) {
  return async (ctx: Context) => {
    const id = ctx.params.id ?? '';
    const r = /^[0-9a-f-]{36}$/.test(id) ? await webhookLog.get(id) : null;
    if (!r)
      throw new NotFoundError(
        `no received webhook ${id} (records are kept for the newest PUSHCI_WEBHOOK_LOG_MAX)`,
      );
    ctx.body = r;
  };
}
