import { MalformedPayloadError, SignatureMismatchError, SignatureMissingError } from '../../errors.ts';
import type { PushEvent } from '../../core/event.ts';
import { header, type ForgeResult, type Inbound, type InboundRequest } from '../forge.ts';
import { hmacMatches } from '../hmac.ts';
import {
  decodeUtf8,
  optionalString,
  parseJsonObject,
  pick,
  requireSha,
  requireString,
  splitRef,
} from '../payload.ts';

const ZERO = '0'.repeat(40);
/** One delivery can carry many refs; more than this is refused as hostile. */
const MAX_CHANGES = 100;

/**
 * Bitbucket Cloud: `X-Hub-Signature: sha256=<hex HMAC>` of the raw body, `X-Event-Key: repo:push`.
 * One delivery lists several ref changes (`push.changes[]`, each with `new` and `old`): each becomes its
 * own push, so each gets its own builds.
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
        // Its pull request payloads name commits by 12-character prefixes: pushci builds exact commits
        // only, and does not guess which commit a prefix meant.
        return {
          kind: 'ignored',
          event,
          deliveryId,
          reason:
            'Bitbucket pull request payloads carry abbreviated commit ids; pushci builds the pushes of their branches instead',
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
        return {
          forge: 'bitbucket',
          deliveryId,
          repository,
          ref,
          ...splitRef(ref),
          before,
          after,
          deleted: after === ZERO,
          created: before === ZERO,
          forced: pick(c, 'forced') === true,
          headMessage: optionalString(pick(c, 'new', 'target', 'message')),
          pusher,
        };
      });
      return { kind: 'build', deliveryId, events };
    },
  };
}
