import type { ApiClient } from '../api-client.ts';
import { NotFoundError } from '../errors.ts';
import type { BuildView } from '../model.ts';

/**
 * A build as a user names it: its id, or `<pipeline>#<number>` as `pushci builds` and the dashboard
 * show it (the pipeline by its id or file). Builds are listed newest first, so the pages are read only
 * down to that number.
 */
export async function resolveBuild(api: ApiClient, ref: string): Promise<string> {
  const m = /^(.+)#(\d+)$/.exec(ref);
  if (!m) return ref;
  const [, pipeline, n] = m as unknown as [string, string, string];
  const number = Number(n);
  let cursor: string | null = null;
  for (;;) {
    const q = new URLSearchParams({ pipeline, limit: '200', ...(cursor ? { cursor } : {}) });
    const page = await api.json<{ builds: BuildView[]; next: string | null }>(`/api/builds?${q}`);
    const found = page.builds.find((b) => b.number === number);
    if (found) return found.id;
    const last = page.builds.at(-1);
    if (!page.next || !last || last.number < number)
      throw new NotFoundError(`no build ${ref}; \`pushci builds --pipeline ${pipeline}\` lists them`);
    cursor = page.next;
  }
}
