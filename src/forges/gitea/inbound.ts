import { MalformedPayloadError, SignatureMismatchError, SignatureMissingError } from '../../errors.ts';
import type { PullRequestAction, PushEvent } from '../../core/event.ts';
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

/**
 * Gitea and Forgejo (Forgejo is a Gitea fork with the same payloads): `X-Gitea-Signature` /
 * `X-Forgejo-Signature`, the hex HMAC-SHA256 of the raw body; event `push`.
 */
export function createGiteaInbound(name: 'gitea' | 'forgejo', secrets: readonly string[]): Inbound {
  const prefix = name === 'gitea' ? 'x-gitea' : 'x-forgejo';
  const setting = name === 'gitea' ? 'GITEA_WEBHOOK_SECRET' : 'FORGEJO_WEBHOOK_SECRET';
  // Forgejo also sends the X-Gitea-* headers; either name is accepted for it.
  const get = (req: InboundRequest, what: string) =>
    header(req, `${prefix}-${what}`) ?? (name === 'forgejo' ? header(req, `x-gitea-${what}`) : undefined);
  return {
    name,

    async verify(req: InboundRequest) {
      const signature = get(req, 'signature');
      if (!signature)
        throw new SignatureMissingError(
          `${prefix}-signature header is missing; set a secret in the ${name} webhook`,
        );
      if (secrets.length === 0)
        throw new SignatureMismatchError(`no ${setting} is configured on this server`);
      if (!hmacMatches(req.body, signature, secrets))
        throw new SignatureMismatchError(`${prefix}-signature does not match the body; check ${setting}`);
    },

    parse(req: InboundRequest): ForgeResult {
      const deliveryId = requireString(get(req, 'delivery'), `${prefix}-delivery header`, 200);
      const event = get(req, 'event');
      if (!event) throw new MalformedPayloadError(`${prefix}-event header is missing`);
      const payload = parseJsonObject(decodeUtf8(req.body) ?? '');
      if (event === 'pull_request') return pullRequest(name, payload, deliveryId);
      if (event !== 'push') return { kind: 'ignored', event, deliveryId };
      const ref = requireString(payload.ref, 'ref');
      // For an annotated tag, head_commit (when sent) is the commit the tag object in `after` tags.
      const after = peeledTag(ref, requireSha(payload.after, 'after'), pick(payload, 'head_commit', 'id'));
      const before = requireSha(payload.before, 'before');
      const push: PushEvent = {
        forge: name,
        deliveryId,
        repository: requireString(pick(payload, 'repository', 'full_name'), 'repository.full_name', 300),
        ref,
        ...splitRef(ref),
        before,
        after,
        deleted: ZERO_SHA.test(after),
        created: ZERO_SHA.test(before),
        forced: false,
        headMessage: optionalString(pick(payload, 'head_commit', 'message')),
        pusher: optionalString(pick(payload, 'pusher', 'login'), 200),
      };
      return { kind: 'build', deliveryId, events: [push] };
    },
  };
}

const GITEA_ACTIONS: Record<string, PullRequestAction> = {
  opened: 'opened',
  synchronized: 'synchronize',
  reopened: 'reopened',
};

/** A pull request opened, pushed to (`synchronized`) or reopened; the head is fetched via refs/pull/N/head. */
function pullRequest(name: 'gitea' | 'forgejo', p: Record<string, unknown>, deliveryId: string): ForgeResult {
  const action = typeof p.action === 'string' ? GITEA_ACTIONS[p.action] : undefined;
  if (!action)
    return {
      kind: 'ignored',
      event: 'pull_request',
      deliveryId,
      reason: `pull request ${String(p.action).slice(0, 40)}: only opened, synchronized and reopened build`,
    };
  const pr = pick(p, 'pull_request');
  const headRepo = pick(pr, 'head', 'repo');
  const number = pick(pr, 'number') ?? p.number;
  return {
    kind: 'build',
    deliveryId,
    events: [
      pullRequestEvent({
        forge: name,
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
            { id: pick(pr, 'head', 'repo_id') ?? pick(headRepo, 'id'), name: pick(headRepo, 'full_name') },
            {
              id: pick(pr, 'base', 'repo_id') ?? pick(p, 'repository', 'id'),
              name: pick(p, 'repository', 'full_name'),
            },
          ),
        head: pick(pr, 'head', 'sha'),
        // The merge base when Gitea sends it: path filters then see exactly the pull request's change.
        base: pick(pr, 'merge_base') ?? pick(pr, 'base', 'sha'),
        actor: pick(p, 'sender', 'login'),
        ref: `refs/pull/${String(number)}/head`,
      }),
    ],
  };
}
