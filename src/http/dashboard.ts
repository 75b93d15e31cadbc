import { readFileSync } from 'node:fs';
import type { Context } from 'koa';
import { NotFoundError } from '../errors.ts';

const DIR = new URL('./dashboard/', import.meta.url);
const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'endpoints.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/**
 * The dashboard: one static page and its files, read once. The page holds no data; everything comes
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

export function dashboardAsset() {
  const files = Object.fromEntries(
    Object.keys(ASSETS).map((f) => [f, readFileSync(new URL(f, DIR), 'utf8')]),
  );
  return (ctx: Context) => {
    const name = ctx.params.file ?? '';
    if (!(name in files)) throw new NotFoundError(`no dashboard file ${name}`);
    ctx.type = ASSETS[name]!;
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = files[name];
  };
}
