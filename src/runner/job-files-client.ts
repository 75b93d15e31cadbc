import { Readable } from 'node:stream';

/** A cache entry as the server describes it. */
export interface CacheHit {
  id: string;
  key: string;
  size: number;
}

export class JobFilesError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/**
 * The worker's side of the cache and artifact service: HTTP to the server (`PUSHCI_URL`) with the job's
 * credential, so workers on other machines keep nothing of their own; the server stores the data.
 */
export class JobFilesClient {
  private readonly base: string;
  private readonly token: string;
  constructor(base: string, token: string) {
    this.base = base.replace(/\/+$/, '');
    this.token = token;
  }

  private async call(method: string, path: string, init: { body?: Readable | string; type?: string } = {}) {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (init.type) headers['content-type'] = init.type;
    const body =
      init.body instanceof Readable ? (Readable.toWeb(init.body) as unknown as ReadableStream) : init.body;
    let res: Response;
    try {
      res = await fetch(`${this.base}/job${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body, duplex: 'half' } : {}),
      } as RequestInit);
    } catch (err) {
      throw new JobFilesError(
        `cannot reach the pushci server at ${this.base} (PUSHCI_URL): ${(err as Error).message}`,
        0,
      );
    }
    if (res.status >= 400) {
      const text = await res.text().catch(() => '');
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // Not JSON: a proxy's page.
      }
      throw new JobFilesError(`${method} ${path}: ${res.status} ${message.slice(0, 300)}`, res.status);
    }
    return res;
  }

  private static stream(res: Response): Readable {
    return Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream<Uint8Array>);
  }

  /** The cache to restore for `keys` (the key, then restore-key prefixes), or null. */
  async lookupCache(keys: string[], version: string): Promise<CacheHit | null> {
    const q = new URLSearchParams({ keys: keys.join(','), version });
    const res = await this.call('GET', `/caches?${q}`);
    if (res.status === 204) return null;
    return (await res.json()) as CacheHit;
  }

  async downloadCache(id: string): Promise<Readable> {
    return JobFilesClient.stream(await this.call('GET', `/caches/${encodeURIComponent(id)}`));
  }

  /** Saves a cache; false when the key exists already (caches are immutable). */
  async saveCache(key: string, version: string, body: Readable): Promise<{ saved: boolean; size: number }> {
    let id: string;
    try {
      const res = await this.call('POST', '/caches', {
        body: JSON.stringify({ key, version }),
        type: 'application/json',
      });
      id = ((await res.json()) as { id: string }).id;
    } catch (err) {
      if (err instanceof JobFilesError && err.status === 409) {
        body.destroy();
        return { saved: false, size: 0 };
      }
      throw err;
    }
    try {
      await this.call('PUT', `/caches/${id}`, { body, type: 'application/octet-stream' });
    } catch (err) {
      await this.call('DELETE', `/caches/${id}`).catch(() => {});
      throw err;
    }
    const res = await this.call('POST', `/caches/${id}/commit`, { body: '{}', type: 'application/json' });
    return { saved: true, size: ((await res.json()) as { size: number }).size };
  }

  async uploadArtifact(name: string, body: Readable): Promise<{ size: number }> {
    const res = await this.call('PUT', `/artifacts/${encodeURIComponent(name)}`, {
      body,
      type: 'application/gzip',
    });
    return (await res.json()) as { size: number };
  }

  /** The artifact's `.tar.gz`, or null when the build has none of that name. */
  async downloadArtifact(name: string): Promise<Readable | null> {
    try {
      return JobFilesClient.stream(await this.call('GET', `/artifacts/${encodeURIComponent(name)}`));
    } catch (err) {
      if (err instanceof JobFilesError && err.status === 404) return null;
      throw err;
    }
  }
}
