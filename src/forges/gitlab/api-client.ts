import { apiRequest, type ApiTarget } from '../api-request.ts';

/** The parts of GitLab's REST API pushci uses (project hooks), against any base URL (self-managed, tests). */

export interface GitlabHook {
  id: number;
  url: string;
  push_events: boolean;
  tag_push_events: boolean;
  merge_requests_events?: boolean;
  enable_ssl_verification: boolean;
  alert_status?: string;
  disabled_until?: string | null;
}

export class GitlabClient {
  private readonly target: ApiTarget;

  constructor(base: string, token: string) {
    this.target = {
      base: base.replace(/\/+$/, ''),
      headers: { 'private-token': token },
      forge: 'GitLab',
      tokenVar: 'GITLAB_TOKEN',
    };
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    return (await apiRequest(this.target, method, path, body)).json;
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
      merge_requests_events: true,
      enable_ssl_verification: true,
    })) as GitlabHook;
  }
}
