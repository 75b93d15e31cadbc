import { randomUUID } from 'node:crypto';
import { OUTBOUND_EVENT_TYPES, type BuildView, type OutboundEventType } from '../model.ts';
import { postJson, type PostResult } from './post.ts';
import { checkSecret, signatureHeader } from './sign.ts';
import type { AddressGuard } from './ssrf.ts';

/** A made-up build in the exact shape of real payloads, for receivers to test against. */
export function exampleBuild(publicUrl: string, status: BuildView['status']): BuildView {
  const now = Date.now();
  const at = (s: number) => new Date(now + s * 1000).toISOString();
  const done = status !== 'queued' && status !== 'running';
  return {
    id: 'example0000000000000',
    number: 42,
    pipeline: 'example',
    status,
    reason: null,
    superseded_by: null,
    forge: 'github',
    repository: 'octo-org/example',
    ref: 'refs/heads/main',
    branch: 'main',
    tag: null,
    sha: '9f3c1a8d2b7e4f6a0c5d8e1b2a3f4c5d6e7f8a9b',
    before: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
    message: 'An example commit (pushci notify-test)',
    pusher: 'octocat',
    delivery_id: 'example-delivery',
    event: 'push',
    rerun_of: null,
    pull_request: null,
    cron: null,
    inputs: {},
    approval: null,
    url: `${publicUrl}/api/builds/example0000000000000`,
    html_url: `${publicUrl}/#/builds/example0000000000000`,
    created_at: at(0),
    started_at: status === 'queued' ? null : at(1),
    finished_at: done ? at(5) : null,
    duration_ms: done ? 4000 : null,
    unsandboxed: false,
    jobs: [
      {
        name: 'build',
        display_name: 'build',
        group: null,
        matrix: null,
        outputs: {},
        annotations: [],
        summary: null,
        status: status === 'queued' ? 'queued' : status === 'running' ? 'running' : 'success',
        needs: [],
        attempt: status === 'queued' ? 0 : 1,
        exit_code: done ? 0 : null,
        reason: null,
        started_at: status === 'queued' ? null : at(1),
        finished_at: done ? at(5) : null,
        duration_ms: done ? 4000 : null,
        runner: status === 'queued' ? null : 'sandbox',
      },
    ],
  };
}

export function exampleEvent(type: OutboundEventType, publicUrl: string): string {
  const status = type === 'build.queued' ? 'queued' : type === 'build.started' ? 'running' : 'success';
  const build = exampleBuild(publicUrl, status);
  const data = type === 'job.completed' ? { build, job: build.jobs[0]! } : { build };
  return JSON.stringify({ type, timestamp: new Date().toISOString(), data });
}

export interface TestDelivery {
  type: OutboundEventType;
  webhook_id: string;
  status: number | null;
  duration_ms: number;
  error: string | null;
  body: string | null;
}

/**
 * Sends one signed example of every outbound event type to `url`, so a receiver can be built and
 * checked before any real build exists. Returns what each attempt got.
 */
export async function sendTestEvents(
  url: string,
  secrets: string[],
  opts: { guard: AddressGuard; timeoutMs: number; publicUrl: string },
): Promise<TestDelivery[]> {
  secrets.forEach(checkSecret);
  const out: TestDelivery[] = [];
  for (const type of OUTBOUND_EVENT_TYPES) {
    const id = `msg_test_${randomUUID().replaceAll('-', '')}`;
    const body = exampleEvent(type, opts.publicUrl);
    const now = new Date();
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signatureHeader(secrets, id, now, body),
    };
    try {
      const r: PostResult = await postJson(url, headers, body, {
        guard: opts.guard,
        timeoutMs: opts.timeoutMs,
      });
      out.push({
        type,
        webhook_id: id,
        status: r.status,
        duration_ms: r.durationMs,
        error: r.status >= 200 && r.status < 300 ? null : `receiver answered ${r.status}`,
        body: r.body,
      });
    } catch (err) {
      out.push({
        type,
        webhook_id: id,
        status: null,
        duration_ms: 0,
        error: (err as Error).message,
        body: null,
      });
    }
  }
  return out;
}
