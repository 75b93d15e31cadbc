import type { Context, Next } from 'koa';
import { errorResponse } from './error-response.ts';

/** Every error of a Koa route answers `{ "error": code, "message": text }` with the status for its code. */
export async function errorMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', message: `no route for ${ctx.method} ${ctx.path}` };
    }
  } catch (err) {
    const r = errorResponse(err);
    ctx.status = r.status;
    ctx.body = r.body;
    ctx.set(r.headers);
    if (r.expected)
      ctx.state.log?.info(
        { status: r.status, error: r.body.error, reason: r.body.message },
        'request refused',
      );
    else ctx.state.log?.error({ err }, 'unhandled error');
  }
}
