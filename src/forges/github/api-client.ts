import { apiRequest, type ApiTarget } from '../api-request.ts';

/** The parts of GitHub's REST API pushci uses (hooks, deliveries), against any base URL (GitHub Enterprise, tests). */

export interface GithubHook {
  id: number;
  active: boolean;
  events: string[];
  config: { url?: string; content_type?: string; insecure_ssl?: string };
}

export interface GithubDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status: string;
  status_code: number;
  event: string;
}

export class GithubClient {
  private readonly target: ApiTarget;

  constructor(base: string, token: string) {
    this.target = {
      base: base.replace(/\/+$/, ''),
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
      },
      forge: 'GitHub',
      tokenVar: 'GITHUB_TOKEN',
    };
  }

  private request(method: string, path: string, body?: unknown) {
    return apiRequest(this.target, method, path, body);
  }

  private static repoPath(repo: string): string {
    const [owner, name] = repo.split('/');
    if (!owner || !name) throw new Error(`"${repo}" is not owner/name`);
    return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
  }

  async listHooks(repo: string): Promise<GithubHook[]> {
    return (await this.request('GET', `${GithubClient.repoPath(repo)}/hooks?per_page=100`))
      .json as GithubHook[];
  }

  async createHook(
    repo: string,
    hook: { url: string; secret: string; events: string[] },
  ): Promise<GithubHook> {
    const body = {
      name: 'web',
      active: true,
      events: hook.events,
      config: { url: hook.url, content_type: 'json', secret: hook.secret, insecure_ssl: '0' },
    };
    return (await this.request('POST', `${GithubClient.repoPath(repo)}/hooks`, body)).json as GithubHook;
  }

  /** Deliveries newest first, following pagination until `since`. */
  async listDeliveries(repo: string, hookId: number, since: Date): Promise<GithubDelivery[]> {
    const out: GithubDelivery[] = [];
    let path: string | null = `${GithubClient.repoPath(repo)}/hooks/${hookId}/deliveries?per_page=100`;
    while (path) {
      const page: { json: unknown; next: string | null } = await this.request('GET', path);
      const items = page.json as GithubDelivery[];
      out.push(...items.filter((d) => Date.parse(d.delivered_at) >= since.getTime()));
      const oldest = items.at(-1);
      path = oldest && Date.parse(oldest.delivered_at) >= since.getTime() ? page.next : null;
    }
    return out;
  }

  async redeliver(repo: string, hookId: number, deliveryId: number): Promise<void> {
    await this.request(
      'POST',
      `${GithubClient.repoPath(repo)}/hooks/${hookId}/deliveries/${deliveryId}/attempts`,
    );
  }
}
