import { SETTINGS } from '../settings.ts';
import { SECRET_ENV_PREFIX } from './expressions.ts';

/** Every variable of pushci's settings table: webhook secrets, forge tokens, the API token, REDIS_URL, ... */
let settingNames: ReadonlySet<string> | null = null;
// Built on first use, not at import: config.ts and the modules it gathers settings from may import this one.
const SETTING_NAMES = () => (settingNames ??= new Set(SETTINGS.map((s) => s.env)));

/**
 * Why `${{ env.NAME }}` may not read `name`, or null when it may. pushci's own settings (and anything
 * named `PUSHCI_*`, `PUSHCI_SECRET_*` included) are not pipeline variables: a pushed pipeline file could
 * otherwise send the server's tokens to a URL of its choosing. A secret a pipeline needs is given to it
 * on purpose, as `secrets.NAME`, and masked in logs.
 */
export function settingEnvProblem(name: string): string | null {
  if (name.startsWith(SECRET_ENV_PREFIX)) {
    const short = name.slice(SECRET_ENV_PREFIX.length) || 'NAME';
    return `\${{ env.${name} }} cannot be read through env.: write it as \${{ secrets.${short} }}, which is masked in logs`;
  }
  if (SETTING_NAMES().has(name) || name.startsWith('PUSHCI_'))
    return `\${{ env.${name} }} is one of pushci's own settings, which pipelines cannot read: give the value to the pipeline as a secret (\${{ secrets.NAME }} from PUSHCI_SECRET_NAME) or use another variable`;
  return null;
}
