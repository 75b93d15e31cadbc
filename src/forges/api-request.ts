/** A forge REST API refused a request; the message says which setting to check. */
export class ForgeApiError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export interface ApiTarget {
  /** Base URL, without a trailing slash. */
  base: string;
  /** Authentication and format headers of this forge. */
  headers: Record<string, string>;
  /** For messages: the forge's name and the variable that holds its token. */
  forge: string;
  tokenVar: string;
}

/** One JSON request to a forge API, with the pagination link GitHub sends, and errors that give advice. */
export async function apiRequest(
  t: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ json: unknown; next: string | null }> {
  const url = path.startsWith('http') ? path : `${t.base}${path}`;
  const res = await fetch(url, {
    method,
    headers: {
      'user-agent': 'pushci',
      ...t.headers,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) {
    const hint =
      res.status === 401
        ? ` (check ${t.tokenVar})`
        : res.status === 404
          ? ' (no such repository or hook, or the token cannot see it)'
          : '';
    throw new ForgeApiError(
      `${t.forge} answered ${res.status} to ${method} ${path}${hint}: ${text.slice(0, 200)}`,
      res.status,
    );
  }
  const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
  return { json: text ? JSON.parse(text) : null, next };
}
