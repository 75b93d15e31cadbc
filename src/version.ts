import { readFileSync } from 'node:fs';

/** pushci's version, from its package.json: `pushci --version`, the OpenAPI document. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
