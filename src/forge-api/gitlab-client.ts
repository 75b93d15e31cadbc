/** The parts of GitLab's REST API pushci uses (project hooks), against any base URL (self-managed, tests). */

export interface GitlabHook {
  id: number;
  url: string;
  push_events: boolean;
  tag_push_events: boolean;
  enable_ssl_verification: boolean;
  alert_status?: string;
  disabled_until?: string | null;
}

export class GitlabClient {
  private readonly base: string;
  private readonly token: string;

  constructor(base: string, token: string) {
    this.base = base.replace(/\/+$/, '');
    this.token = token;
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        'private-token': this.token,
        'user-agent': 'pushci',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) {
      const hint =
        res.status === 401
          ? ' (check GITLAB_TOKEN)'
          : res.status === 404
            ? ' (no such project, or the token cannot see it)'
            : '';
      throw new Error(`GitLab answered ${res.status} to ${method} ${path}${hint}: ${text.slice(0, 200)}`);
    }
    return text ? JSON.parse(text) : null;
  }

  private static project(path: string): string {
    return `/projects/${encodeURIComponent(path)}`;
  }

  async listHooks(project: string): Promise<GitlabHook[]> {
    return (await this.request('GET', `${GitlabClient.project(project)}/hooks?per_page=100`)) as GitlabHook[];
  }

  async createHook(project: string, hook: { url: string; token: string }): Promise<GitlabHook> {
    return (await this.request('POST', `${GitlabClient.project(project)}/hooks`, {
      url: hook.url,
      token: hook.token,
      push_events: true,
      tag_push_events: true,
      enable_ssl_verification: true,
    })) as GitlabHook;
  }
}
