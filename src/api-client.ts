import type { Config } from './config.ts';
import { ConfigError } from './errors.ts';

/** The CLI's way to a running server: PUSHCI_URL and PUSHCI_API_TOKEN. */
export class ApiClient {
  readonly base: string;
  private readonly token: string | undefined;

  constructor(config: Pick<Config, 'serverUrl' | 'apiToken'>) {
    this.base = config.serverUrl;
    this.token = config.apiToken;
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
      throw new ConfigError(`${this.base} refused the request: set PUSHCI_API_TOKEN`);
    return res;
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.fetch(path, init);
    const body = (await res.json().catch(() => null)) as (T & { message?: string }) | null;
    if (!res.ok) throw new ConfigError(`${res.status}: ${body?.message ?? res.statusText}`);
    return body as T;
  }
}
