import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
type Example = { name: string; examples: Array<Record<string, unknown>> };
const examples = require('@octokit/webhooks-examples') as Example[];

export const ZERO = '0'.repeat(40);

export function whsec(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

// Unix seconds, one more per push: unique within a test process, as GitHub's are per push.
let pushedAt = Math.floor(Date.now() / 1000);

/**
 * A real GitHub push payload (octokit's captured examples), pointed at our repository and commits. Each
 * call is a new push: GitHub's `repository.pushed_at` differs, so two calls never send the same bytes
 * (pushci takes the same bytes under a new delivery id for a replay).
 */
export function githubPush(o: {
  ref?: string;
  before: string;
  after: string;
  repo?: string;
  message?: string;
  forced?: boolean;
}) {
  const base = examples
    .find((x) => x.name === 'push')!
    .examples.find((e) => String(e.ref).startsWith('refs/heads/') && e.head_commit)!;
  const p = structuredClone(base) as Record<string, any>;
  const repo = o.repo ?? 'octo-org/web';
  p.ref = o.ref ?? 'refs/heads/main';
  p.before = o.before;
  p.after = o.after;
  p.deleted = o.after === ZERO;
  p.created = o.before === ZERO;
  p.forced = o.forced ?? false;
  p.repository.full_name = repo;
  p.repository.name = repo.split('/')[1];
  p.repository.pushed_at = pushedAt++;
  p.head_commit = p.deleted ? null : { ...p.head_commit, id: o.after, message: o.message ?? 'a commit' };
  p.commits = p.deleted ? [] : [{ ...p.head_commit }];
  return p;
}

/** A GitLab push payload in the shape of GitLab's documented example. */
export function gitlabPush(o: {
  ref?: string;
  before: string;
  after: string;
  repo?: string;
  message?: string;
}) {
  const ref = o.ref ?? 'refs/heads/main';
  const path = o.repo ?? 'group/app';
  const url = `https://gitlab.example.com/${path}`;
  const tag = ref.startsWith('refs/tags/');
  const deleted = o.after === ZERO;
  return {
    object_kind: tag ? 'tag_push' : 'push',
    event_name: tag ? 'tag_push' : 'push',
    before: o.before,
    after: o.after,
    ref,
    checkout_sha: deleted ? null : o.after,
    user_id: 4,
    user_name: 'John Smith',
    user_username: 'jsmith',
    project_id: 15,
    project: {
      id: 15,
      name: path.split('/').pop(),
      web_url: url,
      path_with_namespace: path,
      default_branch: 'main',
      git_http_url: `${url}.git`,
    },
    commits: deleted
      ? []
      : [
          {
            id: o.after,
            message: o.message ?? 'a commit',
            title: o.message ?? 'a commit',
            url: `${url}/-/commit/${o.after}`,
          },
        ],
    total_commits_count: deleted ? 0 : 1,
    repository: { name: path.split('/').pop(), homepage: url },
  };
}

export function githubSignature(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface Sent {
  status: number;
  json: any;
  text: string;
}

export async function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
): Promise<Sent> {
  const r = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  const text = await r.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, json, text };
}

export function sendGithub(
  base: string,
  payload: unknown,
  secret: string,
  extra: Record<string, string> = {},
): Promise<Sent> {
  const body = JSON.stringify(payload);
  return post(`${base}/webhooks/github`, body, {
    'x-github-event': 'push',
    'x-github-delivery': randomUUID(),
    'x-hub-signature-256': githubSignature(body, secret),
    ...extra,
  });
}

export function sendGitlab(
  base: string,
  payload: { object_kind: string },
  token: string,
  extra: Record<string, string> = {},
): Promise<Sent> {
  return post(`${base}/webhooks/gitlab`, JSON.stringify(payload), {
    'x-gitlab-event': payload.object_kind === 'tag_push' ? 'Tag Push Hook' : 'Push Hook',
    'x-gitlab-token': token,
    'x-gitlab-event-uuid': randomUUID(),
    ...extra,
  });
}

/**
 * A real GitHub pull_request payload (octokit's captured example) pointed at our repository, commits and
 * branches; `headRepo` other than `repo` makes it a fork's (with another repository id, as GitHub sends).
 */
export function githubPullRequest(o: {
  action?: string;
  number: number;
  head: string;
  base: string;
  repo?: string;
  headRepo?: string;
  source?: string;
  target?: string;
  title?: string;
}) {
  const base = examples.find((x) => x.name === 'pull_request')!.examples.find((e) => e.action === 'opened')!;
  const p = structuredClone(base) as Record<string, any>;
  const repo = o.repo ?? 'octo-org/web';
  const headRepo = o.headRepo ?? repo;
  p.action = o.action ?? 'opened';
  p.number = o.number;
  p.repository.full_name = repo;
  p.repository.name = repo.split('/')[1];
  const pr = p.pull_request;
  pr.number = o.number;
  pr.title = o.title ?? 'A change';
  pr.base.ref = o.target ?? 'main';
  pr.base.sha = o.base;
  pr.base.repo = { ...p.repository };
  pr.head.ref = o.source ?? 'feature';
  pr.head.sha = o.head;
  pr.head.repo = {
    ...p.repository,
    full_name: headRepo,
    name: headRepo.split('/')[1],
    id: headRepo === repo ? p.repository.id : p.repository.id + 1000,
    fork: headRepo !== repo,
  };
  return p;
}
