import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { SignatureMismatchError, SignatureMissingError } from '../errors.ts';
import type { PushEvent } from '../model.ts';
import { header, type Forge, type ForgeResult, type InboundRequest } from './forge.ts';
import {
  ZERO_SHA,
  decodeUtf8,
  optionalString,
  parseJsonObject,
  pick,
  requireSha,
  requireString,
  splitRef,
} from './payload.ts';

const PUSH_EVENTS = new Set(['Push Hook', 'Tag Push Hook']);

/** Hashing both sides first makes the comparison constant-time whatever the lengths. */
function sameToken(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** GitLab: the shared `X-Gitlab-Token`, compared in constant time against every configured token. */
export function createGitlabForge(tokens: readonly string[]): Forge {
  return {
    name: 'gitlab',

    async verify(req: InboundRequest) {
      const token = header(req, 'x-gitlab-token');
      if (!token)
        throw new SignatureMissingError(
          'X-Gitlab-Token header is missing; set a secret token in the GitLab webhook',
        );
      let ok = false;
      for (const t of tokens) ok = sameToken(token, t) || ok;
      if (!ok) throw new SignatureMismatchError('X-Gitlab-Token does not match; check GITLAB_WEBHOOK_TOKEN');
    },

    parse(req: InboundRequest): ForgeResult {
      const deliveryId =
        header(req, 'x-gitlab-event-uuid') ?? header(req, 'idempotency-key') ?? `gitlab-${randomUUID()}`;
      const event = header(req, 'x-gitlab-event') ?? '(none)';
      const payload = parseJsonObject(decodeUtf8(req.body) ?? '');
      if (!PUSH_EVENTS.has(event)) return { kind: 'ignored', event, deliveryId };
      return { kind: 'push', event: toPushEvent(payload, requireString(deliveryId, 'delivery id', 200)) };
    },
  };
}

function toPushEvent(p: Record<string, unknown>, deliveryId: string): PushEvent {
  const ref = requireString(p.ref, 'ref');
  const after = requireSha(p.after, 'after');
  const before = requireSha(p.before, 'before');
  const repository = requireString(
    pick(p, 'project', 'path_with_namespace'),
    'project.path_with_namespace',
    300,
  );
  const commits = Array.isArray(p.commits) ? p.commits : [];
  const head = commits.find((c) => pick(c, 'id') === after) ?? commits.at(-1);
  return {
    forge: 'gitlab',
    deliveryId,
    repository,
    ref,
    ...splitRef(ref),
    before,
    after,
    deleted: ZERO_SHA.test(after),
    created: ZERO_SHA.test(before),
    forced: false,
    headMessage: optionalString(pick(head, 'message')),
    pusher: optionalString(p.user_username, 200),
  };
}
