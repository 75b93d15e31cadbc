import { readdirSync, readFileSync } from 'node:fs';
import type { Context } from 'koa';
import { NotFoundError } from '../errors.ts';

const DIR = new URL('./dashboard/', import.meta.url);
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

/**
 * The dashboard: one static page and its modules, read once. The page holds no data; everything comes
 * from /api, so it is as protected as the API (the token, or the login cookie).
 */
export function dashboardPage() {
  const html = readFileSync(new URL('index.html', DIR), 'utf8');
  return (ctx: Context) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'");
    ctx.body = html;
  };
}

/** Every `.js`, `.css` and `.svg` file of the dashboard folder, by name; nothing else is served. */
export function dashboardAsset() {
  const files = new Map<string, { type: string; body: string }>();
  for (const name of readdirSync(DIR)) {
    const type = TYPES[name.slice(name.lastIndexOf('.') + 1)];
    if (type) files.set(name, { type, body: readFileSync(new URL(name, DIR), 'utf8') });
  }
  return (ctx: Context) => {
    const name = ctx.params.file ?? '';
    const file = files.get(name);
    if (!file) throw new NotFoundError(`no dashboard file ${name}`);
    ctx.type = file.type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = file.body;
  };
}
