import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { Redis } from 'ioredis';
import type { Keys } from '../queue/keys.ts';

const COLORS: Record<string, string> = {
  success: '#2da44e',
  failure: '#cf222e',
  error: '#cf222e',
  canceled: '#8c959f',
  skipped: '#8c959f',
  running: '#bf8700',
  queued: '#bf8700',
  unknown: '#8c959f',
};

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Rough width of Verdana 11px text, as badge services estimate it. */
const width = (s: string) => Math.round(s.length * 6.5 + 10);

export function badgeSvg(label: string, status: string): string {
  const lw = width(label);
  const sw = width(status);
  const color = COLORS[status] ?? COLORS.unknown!;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${lw + sw}" height="20" role="img" aria-label="${escape(label)}: ${escape(status)}"><title>${escape(label)}: ${escape(status)}</title><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${sw}" height="20" fill="${color}"/><g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"><text x="${lw / 2}" y="14">${escape(label)}</text><text x="${lw + sw / 2}" y="14">${escape(status)}</text></g></svg>`;
}

/**
 * `GET /badge/:pipeline.svg?branch=main`: the status of the pipeline's last finished build (of that
 * branch). No caching, so GitHub's image proxy asks again each time (with the ETag it may get a 304).
 */
export function badge(deps: { redis: Redis; keys: Keys }) {
  return async (ctx: Context) => {
    const pipeline = String(ctx.params.pipeline ?? '');
    const branch = typeof ctx.query.branch === 'string' && ctx.query.branch ? ctx.query.branch : '*';
    const status = (await deps.redis.hget(deps.keys.badges, `${pipeline}\n${branch}`)) ?? 'unknown';
    const svg = badgeSvg(pipeline, status);
    const etag = `"${createHash('sha1').update(svg).digest('hex').slice(0, 16)}"`;
    ctx.set({ 'Cache-Control': 'no-cache, no-store, must-revalidate, max-age=0', ETag: etag, Expires: '0' });
    if (ctx.get('if-none-match') === etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'image/svg+xml';
    ctx.body = svg;
  };
}
