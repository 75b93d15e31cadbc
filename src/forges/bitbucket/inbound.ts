import { MalformedPayloadError, SignatureMismatchError, SignatureMissingError } from '../../errors.ts';
import type { PushEvent } from '../../core/event.ts';
import { pullRequestEvent, sameRepository } from '../pull-request.ts';
import { header, type ForgeResult, type Inbound, type InboundRequest } from '../forge.ts';
import { hmacMatches } from '../hmac.ts';
import { decodeUtf8, optionalString, parseJsonObject, pick, requireSha, requireString } from '../payload.ts';
import { pushEvent } from '../push-event.ts';

const ZERO = '0'.repeat(40);
/** One delivery can carry many refs; more than this is refused as hostile. */
const MAX_CHANGES = 100;

/**
 * Bitbucket Cloud: `X-Hub-Signature: sha256=<hex HMAC>` of the raw body, `X-Event-Key: repo:push`.
 * One delivery lists several ref changes (`push.changes[]`, each with `new` and `old`): each becomes its
 * own push, so each gets its own builds. `pullrequest:created` and `pullrequest:updated` build the pull
 * request (see `pullRequest`); its other events are acknowledged and ignored.
 */
export function createBitbucketInbound(secrets: readonly string[]): Inbound {
  return {
    name: 'bitbucket',

    async verify(req: InboundRequest) {
      const signature = header(req, 'x-hub-signature');
      if (!signature)
        throw new SignatureMissingError(
          'X-Hub-Signature header is missing; set a secret in the Bitbucket webhook',
        );
      if (secrets.length === 0)
        throw new SignatureMismatchError('no BITBUCKET_WEBHOOK_SECRET is configured on this server');
      const hex = signature.startsWith('sha256=') ? signature.slice(7) : '';
      if (!hmacMatches(req.body, hex, secrets))
        throw new SignatureMismatchError(
          'X-Hub-Signature does not match the body; check BITBUCKET_WEBHOOK_SECRET',
        );
    },

    parse(req: InboundRequest): ForgeResult {
      const deliveryId = requireString(
        header(req, 'x-request-uuid') ?? header(req, 'x-hook-uuid'),
        'X-Request-UUID header',
        200,
      );
      const event = header(req, 'x-event-key');
      if (!event) throw new MalformedPayloadError('X-Event-Key header is missing');
      const payload = parseJsonObject(decodeUtf8(req.body) ?? '');
      if (event === 'diagnostics:ping') return { kind: 'ping', deliveryId };
      if (event === 'pullrequest:created' || event === 'pullrequest:updated')
        return pullRequest(payload, deliveryId, event);
      if (event.startsWith('pullrequest:'))
        return {
          kind: 'ignored',
          event,
          deliveryId,
          reason: `pull request ${event.slice('pullrequest:'.length).slice(0, 40)}: only created and updated build`,
        };
      if (event !== 'repo:push') return { kind: 'ignored', event, deliveryId };
      const repository = requireString(pick(payload, 'repository', 'full_name'), 'repository.full_name', 300);
      const changes = pick(payload, 'push', 'changes');
      if (!Array.isArray(changes)) throw new MalformedPayloadError('push.changes must be a list');
      if (changes.length > MAX_CHANGES)
        throw new MalformedPayloadError(`push.changes has more than ${MAX_CHANGES} entries`);
      const pusher = optionalString(
        pick(payload, 'actor', 'nickname') ?? pick(payload, 'actor', 'display_name'),
        200,
      );
      const events = changes.map((c, i): PushEvent => {
        const side = (pick(c, 'new') ?? pick(c, 'old')) as unknown;
        const type = pick(side, 'type');
        if (type !== 'branch' && type !== 'tag')
          throw new MalformedPayloadError(`push.changes[${i}] is neither a branch nor a tag`);
        const name = requireString(pick(side, 'name'), `push.changes[${i}] name`);
        const ref = `refs/${type === 'branch' ? 'heads' : 'tags'}/${name}`;
        const after = pick(c, 'new')
          ? requireSha(pick(c, 'new', 'target', 'hash'), `push.changes[${i}].new.target.hash`)
          : ZERO;
        const before = pick(c, 'old')
          ? requireSha(pick(c, 'old', 'target', 'hash'), `push.changes[${i}].old.target.hash`)
          : ZERO;
        return pushEvent({
          forge: 'bitbucket',
          deliveryId,
          repository,
          ref,
          before,
          after,
          forced: pick(c, 'forced') === true,
          headMessage: optionalString(pick(c, 'new', 'target', 'message')),
          pusher,
        });
      });
      return { kind: 'build', deliveryId, events };
    },
  };
}

/**
 * A pull request created or updated. Bitbucket Cloud sends `pullrequest:updated` for new commits and for
 * edits alike (the receiver builds a head once, see `webhooks.ts`), names commits by 12-character
 * prefixes (the event is `abbreviated` until the receiver resolves it) and serves no pull request refs:
 * the head is fetched through the source branch (`pull-request-source.ts`). A fork is a source repository
 * with another uuid than the destination.
 */
function pullRequest(p: Record<string, unknown>, deliveryId: string, event: string): ForgeResult {
  const pr = pick(p, 'pullrequest');
  const id = pick(pr, 'id');
  const source = pick(pr, 'source', 'repository');
  const destination = pick(pr, 'destination', 'repository');
  const repository = pick(p, 'repository', 'full_name') ?? pick(destination, 'full_name');
  return {
    kind: 'build',
    deliveryId,
    events: [
      pullRequestEvent({
        forge: 'bitbucket',
        deliveryId,
        repository,
        number: id,
        action: event === 'pullrequest:created' ? 'opened' : 'synchronize',
        title: pick(pr, 'title'),
        sourceBranch: pick(pr, 'source', 'branch', 'name'),
        targetBranch: pick(pr, 'destination', 'branch', 'name'),
        headRepository: source === null ? null : pick(source, 'full_name'),
        fork:
          source === null ||
          !sameRepository(
            { id: pick(source, 'uuid'), name: pick(source, 'full_name') },
            { id: pick(destination, 'uuid') ?? pick(p, 'repository', 'uuid'), name: repository },
          ),
        head: pick(pr, 'source', 'commit', 'hash'),
        base: pick(pr, 'destination', 'commit', 'hash'),
        actor: pick(p, 'actor', 'nickname') ?? pick(p, 'actor', 'display_name'),
        // A name for people and CI_COMMIT_REF (Bitbucket Server's spelling); Bitbucket Cloud serves no such ref.
        ref: `refs/pull-requests/${String(id)}/from`,
        abbreviated: true,
      }),
    ],
  };
}
