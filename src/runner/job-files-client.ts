import { Readable } from 'node:stream';

/**
 * Uploads go in chunks of this size, one request each, so none has to outlast the server's request
 * timeout (PUSHCI_REQUEST_TIMEOUT_MS) however large the whole is.
 */
export const UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024;

/** Reads `body` in chunks of `size` bytes (the last may be shorter) and hands each to `send`, in order. */
export async function sendChunks(
  body: Readable,
  size: number,
  send: (start: number, chunk: Buffer) => Promise<void>,
) {
  let parts: Buffer[] = [];
  let held = 0;
  let start = 0;
  const flush = async () => {
    const chunk = Buffer.concat(parts, held);
    parts = [];
    held = 0;
    await send(start, chunk);
    start += chunk.length;
  };
  for await (const c of body as AsyncIterable<Buffer>) {
    let rest = c;
    while (held + rest.length >= size) {
      const take = size - held;
      parts.push(rest.subarray(0, take));
      held += take;
      rest = rest.subarray(take);
      await flush();
    }
    if (rest.length > 0) {
      parts.push(rest);
      held += rest.length;
    }
  }
  if (held > 0 || start === 0) await flush();
  return start;
}

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
  private readonly chunkBytes: number;
  private readonly signal: AbortSignal | undefined;
  private readonly ready: (() => Promise<void>) | undefined;
  /**
   * `signal` (the job's timeout and cancel) aborts whatever transfer is under way; `ready` is called
   * before each request (the credential is stored on its first use, see `JobCredentials.lazy`).
   */
  constructor(
    base: string,
    token: string,
    o: { chunkBytes?: number; signal?: AbortSignal; ready?: () => Promise<void> } = {},
  ) {
    this.base = base.replace(/\/+$/, '');
    this.token = token;
    this.ready = o.ready;
    this.chunkBytes = o.chunkBytes ?? UPLOAD_CHUNK_BYTES;
    this.signal = o.signal;
  }

  private async call(
    method: string,
    path: string,
    init: { body?: Readable | string | Buffer; type?: string; range?: string } = {},
  ) {
    try {
      await this.ready?.();
    } catch (err) {
      throw new JobFilesError(`could not store the job's credential: ${(err as Error).message}`, 0);
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (init.type) headers['content-type'] = init.type;
    if (init.range) headers['content-range'] = init.range;
    const body =
      init.body instanceof Readable ? (Readable.toWeb(init.body) as unknown as ReadableStream) : init.body;
    let res: Response;
    try {
      res = await fetch(`${this.base}/job${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body, duplex: 'half' } : {}),
        ...(this.signal ? { signal: this.signal } : {}),
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
    let size: number;
    try {
      size = await sendChunks(body, this.chunkBytes, (start, chunk) =>
        this.call('PATCH', `/caches/${id}`, {
          body: chunk,
          type: 'application/octet-stream',
          range: `bytes ${start}-${start + Math.max(chunk.length, 1) - 1}/*`,
        }).then(() => {}),
      );
    } catch (err) {
      await this.call('DELETE', `/caches/${id}`).catch(() => {});
      throw err;
    }
    const res = await this.call('POST', `/caches/${id}/commit`, {
      body: JSON.stringify({ size }),
      type: 'application/json',
    });
    return { saved: true, size: ((await res.json()) as { size: number }).size };
  }

  async uploadArtifact(name: string, body: Readable): Promise<{ size: number }> {
    const path = `/artifacts/${encodeURIComponent(name)}`;
    const size = await sendChunks(body, this.chunkBytes, (start, chunk) =>
      this.call('PATCH', path, {
        body: chunk,
        type: 'application/octet-stream',
        range: `bytes ${start}-${start + Math.max(chunk.length, 1) - 1}/*`,
      }).then(() => {}),
    );
    const res = await this.call('POST', `${path}/commit`, {
      body: JSON.stringify({ size }),
      type: 'application/json',
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
