import { apiTokenFile, readApiToken } from './api-token.ts';
import type { Config } from './config.ts';
import { ConfigError } from './errors.ts';

/**
 * The CLI's way to a running server: PUSHCI_URL, and PUSHCI_API_TOKEN or else the token `pushci serve`
 * generated into the data dir (the CLI's own PUSHCI_DATA_DIR), so on the server's machine it just works.
 */
export class ApiClient {
  readonly base: string;
  private readonly token: string | undefined;
  private readonly tokenFile: string;

  constructor(config: Pick<Config, 'serverUrl' | 'apiToken' | 'dataDir'>) {
    this.base = config.serverUrl;
    this.token = config.apiToken ?? readApiToken(config.dataDir);
    this.tokenFile = apiTokenFile(config.dataDir);
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        ...init,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(init.body ? { 'content-type': 'application/json' } : {}),
          ...(init.headers ?? {}),
        },
      });
    } catch (err) {
      throw new ConfigError(
        `cannot reach pushci at ${this.base} (${(err as Error).message}); set PUSHCI_URL`,
      );
    }
    if (res.status === 401 || res.status === 403)
      throw new ConfigError(
        `${this.base} refused the request: set PUSHCI_API_TOKEN${this.token ? " to the server's token" : ` (no token given, and none in ${this.tokenFile})`}`,
      );
    return res;
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.fetch(path, init);
    const body = (await res.json().catch(() => null)) as (T & { message?: string }) | null;
    // The error body's fields (e.g. the pipelines a 404 lists) stay in details for the command to use.
    if (!res.ok)
      throw new ConfigError(
        `${res.status}: ${body?.message ?? res.statusText}${hint(res.status, body?.message)}`,
        {
          status: res.status,
          ...(body ?? {}),
        },
      );
    return body as T;
  }
}

/** What to do next, after the server's message, where the CLI knows better than a bare status. */
function hint(status: number, message: string | undefined): string {
  if (status === 404 && message?.startsWith('no build '))
    return '; `pushci builds` lists the builds (name one by its id or as <pipeline>#<number>)';
  return '';
}
