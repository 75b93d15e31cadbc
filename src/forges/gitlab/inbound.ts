import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { SignatureMismatchError, SignatureMissingError } from '../../errors.ts';
import type { PullRequestAction, PushEvent } from '../../core/event.ts';
import { pullRequestEvent } from '../pull-request.ts';
import { standardWebhookMatches } from '../standard-webhooks.ts';
import { header, type ForgeResult, type Inbound, type InboundRequest } from '../forge.ts';
import {
  decodeUtf8,
  optionalString,
  parseJsonObject,
  pick,
  requireSha,
  requireString,
  peeledTag,
} from '../payload.ts';
import { pushEvent } from '../push-event.ts';

const PUSH_EVENTS = new Set(['Push Hook', 'Tag Push Hook']);

/** Hashing both sides first makes the comparison constant-time whatever the lengths. */
function sameToken(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export interface GitlabSecrets {
  /** Plain secret tokens, compared with `X-Gitlab-Token`. */
  tokens: readonly string[];
  /** Signing tokens (`whsec_...`): Standard Webhooks signatures, 5 minutes of timestamp tolerance. */
  signingTokens: readonly string[];
}

/**
 * GitLab: every configured check must pass. With signing tokens, `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` are required and verified over the raw body; with plain tokens, `X-Gitlab-Token`.
 */
export function createGitlabInbound({ tokens, signingTokens }: GitlabSecrets): Inbound {
  // Fails at start on a token that is not a whsec_ secret, as before.
  const signers = signingTokens.map((t) => new Webhook(t));
  return {
    name: 'gitlab',

    async verify(req: InboundRequest) {
      if (tokens.length === 0 && signers.length === 0) {
        throw new SignatureMismatchError(
          'no GITLAB_WEBHOOK_TOKEN or GITLAB_WEBHOOK_SIGNING_TOKEN is configured on this server',
        );
      }
      if (signers.length > 0) {
        const id = header(req, 'webhook-id');
        const timestamp = header(req, 'webhook-timestamp');
        const signature = header(req, 'webhook-signature');
        if (!id || !timestamp || !signature) {
          throw new SignatureMissingError(
            'webhook-signature headers are missing; this server requires GitLab signing tokens',
          );
        }
        // Over the exact received bytes: the standardwebhooks library takes a string, and decoding can
        // change bytes (invalid sequences become U+FFFD), so two bodies could pass with one signature.
        const ok = standardWebhookMatches(req.body, id, timestamp, signature, signingTokens);
        if (!ok)
          throw new SignatureMismatchError(
            'webhook-signature does not match, or the timestamp is more than 5 minutes off; check GITLAB_WEBHOOK_SIGNING_TOKEN',
          );
      }
      if (tokens.length > 0) {
        const token = header(req, 'x-gitlab-token');
        if (!token)
          throw new SignatureMissingError(
            'X-Gitlab-Token header is missing; set a secret token in the GitLab webhook',
          );
        let ok = false;
        for (const t of tokens) ok = sameToken(token, t) || ok;
        if (!ok)
          throw new SignatureMismatchError('X-Gitlab-Token does not match; check GITLAB_WEBHOOK_TOKEN');
      }
    },

    parse(req: InboundRequest): ForgeResult {
      // GitLab before 14 sends no delivery id: such deliveries cannot be de-duplicated, so each gets its own.
      // With signing on, only `webhook-id` is covered by the signature: de-duplicating by the unsigned
      // Idempotency-Key would let anyone replay a captured delivery as new by changing that header.
      const deliveryId = requireString(
        (signers.length > 0 ? header(req, 'webhook-id') : undefined) ??
          header(req, 'idempotency-key') ??
          header(req, 'x-gitlab-event-uuid') ??
          header(req, 'webhook-id') ??
          `gitlab-${randomUUID()}`,
        'delivery id',
        200,
      );
      const event = header(req, 'x-gitlab-event') ?? '(none)';
      const payload = parseJsonObject(decodeUtf8(req.body) ?? '');
      if (!PUSH_EVENTS.has(event) && event !== 'Merge Request Hook')
        return { kind: 'ignored', event, deliveryId };
      return event === 'Merge Request Hook'
        ? mergeRequest(payload, deliveryId, event)
        : { kind: 'build', deliveryId, events: [toPushEvent(payload, deliveryId)] };
    },
  };
}

function toPushEvent(p: Record<string, unknown>, deliveryId: string): PushEvent {
  const ref = requireString(p.ref, 'ref');
  // GitLab's `after` of an annotated tag is the tag object; `checkout_sha` is the commit.
  const after = peeledTag(ref, requireSha(p.after, 'after'), p.checkout_sha);
  const before = requireSha(p.before, 'before');
  const repository = requireString(
    pick(p, 'project', 'path_with_namespace'),
    'project.path_with_namespace',
    300,
  );
  const commits = Array.isArray(p.commits) ? p.commits : [];
  const head = commits.find((c) => pick(c, 'id') === after) ?? commits.at(-1);
  return pushEvent({
    forge: 'gitlab',
    deliveryId,
    repository,
    ref,
    before,
    after,
    headMessage: optionalString(pick(head, 'message')),
    pusher: optionalString(p.user_username, 200),
  });
}

/**
 * A merge request opened, reopened, or updated with new commits (GitLab sends `update` for any edit;
 * `oldrev` is there only when the source branch moved). A fork is a source project other than the target.
 */
function mergeRequest(p: Record<string, unknown>, deliveryId: string, event: string): ForgeResult {
  const attrs = pick(p, 'object_attributes');
  const raw = pick(attrs, 'action');
  const action: PullRequestAction | null =
    raw === 'open'
      ? 'opened'
      : raw === 'reopen'
        ? 'reopened'
        : raw === 'update' && typeof pick(attrs, 'oldrev') === 'string'
          ? 'synchronize'
          : null;
  if (!action)
    return {
      kind: 'ignored',
      event,
      deliveryId,
      reason: `merge request ${String(raw).slice(0, 40)}${raw === 'update' ? ' without new commits' : ''}: only open, reopen and updates with new commits build`,
    };
  const iid = pick(attrs, 'iid');
  const source = pick(attrs, 'source_project_id');
  const target = pick(attrs, 'target_project_id');
  return {
    kind: 'build',
    deliveryId,
    events: [
      pullRequestEvent({
        forge: 'gitlab',
        deliveryId,
        repository: pick(p, 'project', 'path_with_namespace'),
        number: iid,
        action,
        title: pick(attrs, 'title'),
        sourceBranch: pick(attrs, 'source_branch'),
        targetBranch: pick(attrs, 'target_branch'),
        headRepository:
          pick(attrs, 'source', 'path_with_namespace') ?? pick(p, 'project', 'path_with_namespace'),
        fork: source === undefined || target === undefined || source !== target,
        head: pick(attrs, 'last_commit', 'id'),
        // GitLab's hook names no target commit: path filters then judge the head commit's own files.
        base: null,
        actor: pick(p, 'user', 'username'),
        ref: `refs/merge-requests/${String(iid)}/head`,
      }),
    ],
  };
}
