import { MalformedPayloadError, SignatureMismatchError, SignatureMissingError } from '../../errors.ts';
import type { PullRequestAction, PullRequestEvent, PushEvent } from '../../core/event.ts';
import { pullRequestEvent, sameRepository } from '../pull-request.ts';
import { header, type ForgeResult, type Inbound, type InboundRequest } from '../forge.ts';
import { hmacMatches } from '../hmac.ts';
import {
  ZERO_SHA,
  decodeUtf8,
  optionalString,
  parseJsonObject,
  pick,
  requireSha,
  requireString,
  peeledTag,
  splitRef,
} from '../payload.ts';

const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

/** GitHub: `X-Hub-Signature-256` HMAC over the exact raw body, every secret tried, in constant time. */
export function createGithubInbound(secrets: readonly string[]): Inbound {
  return {
    name: 'github',

    async verify(req: InboundRequest) {
      const signature = header(req, 'x-hub-signature-256');
      if (!signature) {
        throw new SignatureMissingError(
          'X-Hub-Signature-256 header is missing; set a secret in the GitHub webhook settings',
        );
      }
      if (secrets.length === 0) {
        throw new SignatureMismatchError('no GITHUB_WEBHOOK_SECRET is configured on this server');
      }
      // The HMAC runs over the exact received bytes. (Verifying a decoded string is not the same: UTF-8
      // decoding drops a leading BOM, so bytes the forge never signed would pass.)
      if (!SIGNATURE.test(signature) || !hmacMatches(req.body, signature.slice(7), secrets))
        throw new SignatureMismatchError(
          'X-Hub-Signature-256 does not match the body; check GITHUB_WEBHOOK_SECRET',
        );
      const text = decodeUtf8(req.body);
      if (text === null || text === '')
        throw new MalformedPayloadError(text === '' ? 'body is empty' : 'body is not valid UTF-8');
    },

    parse(req: InboundRequest): ForgeResult {
      const deliveryId = requireString(header(req, 'x-github-delivery'), 'X-GitHub-Delivery header', 200);
      const event = header(req, 'x-github-event');
      if (!event) throw new MalformedPayloadError('X-GitHub-Event header is missing');
      const payload = parseJsonObject(bodyText(req));
      if (event === 'ping') return { kind: 'ping', deliveryId };
      if (event === 'pull_request') {
        const action = payload.action;
        if (action !== 'opened' && action !== 'synchronize' && action !== 'reopened')
          return {
            kind: 'ignored',
            event,
            deliveryId,
            reason: `pull request ${String(action).slice(0, 40)}: only opened, synchronize and reopened build`,
          };
        return { kind: 'build', deliveryId, events: [toPullRequestEvent(payload, deliveryId, action)] };
      }
      if (event !== 'push') return { kind: 'ignored', event, deliveryId };
      return { kind: 'build', deliveryId, events: [toPushEvent(payload, deliveryId)] };
    },
  };
}

/** JSON bodies as they are; form bodies (`content type: application/x-www-form-urlencoded`) carry it in `payload=`. */
function bodyText(req: InboundRequest): string {
  const text = decodeUtf8(req.body) ?? '';
  const type = header(req, 'content-type') ?? '';
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw new MalformedPayloadError('form body has no payload field');
    return payload;
  }
  return text;
}

function toPushEvent(p: Record<string, unknown>, deliveryId: string): PushEvent {
  const ref = requireString(p.ref, 'ref');
  // An annotated tag's push names the tag object in `after`; head_commit is the commit it tags, which
  // is what builds and what every status and payload names.
  const after = peeledTag(ref, requireSha(p.after, 'after'), pick(p, 'head_commit', 'id'));
  const before = requireSha(p.before, 'before');
  const repository = requireString(pick(p, 'repository', 'full_name'), 'repository.full_name', 300);
  return {
    forge: 'github',
    deliveryId,
    repository,
    ref,
    ...splitRef(ref),
    before,
    after,
    deleted: p.deleted === true || ZERO_SHA.test(after),
    created: p.created === true || ZERO_SHA.test(before),
    forced: p.forced === true,
    headMessage: optionalString(pick(p, 'head_commit', 'message')),
    pusher: optionalString(pick(p, 'pusher', 'name'), 200),
  };
}

function toPullRequestEvent(
  p: Record<string, unknown>,
  deliveryId: string,
  action: PullRequestAction,
): PullRequestEvent {
  const pr = pick(p, 'pull_request');
  const headRepo = pick(pr, 'head', 'repo');
  const baseRepo = pick(pr, 'base', 'repo');
  const number = pick(pr, 'number') ?? p.number;
  return pullRequestEvent({
    forge: 'github',
    deliveryId,
    repository: pick(p, 'repository', 'full_name'),
    number,
    action,
    title: pick(pr, 'title'),
    sourceBranch: pick(pr, 'head', 'ref'),
    targetBranch: pick(pr, 'base', 'ref'),
    headRepository: headRepo === null ? null : pick(headRepo, 'full_name'),
    fork:
      headRepo === null ||
      !sameRepository(
        { id: pick(headRepo, 'id'), name: pick(headRepo, 'full_name') },
        { id: pick(baseRepo, 'id') ?? pick(p, 'repository', 'id'), name: pick(p, 'repository', 'full_name') },
      ),
    head: pick(pr, 'head', 'sha'),
    base: pick(pr, 'base', 'sha'),
    actor: pick(p, 'sender', 'login'),
    ref: `refs/pull/${String(number)}/head`,
  });
}
