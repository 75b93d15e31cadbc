import { Webhooks } from '@octokit/webhooks';
import { MalformedPayloadError, SignatureMismatchError, SignatureMissingError } from '../../errors.ts';
import type { PushEvent } from '../../model.ts';
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
  splitRef,
} from '../payload.ts';

const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

/** GitHub: `X-Hub-Signature-256` HMAC over the raw body, checked with @octokit/webhooks in constant time. */
export function createGithubInbound(secrets: readonly string[]): Inbound {
  const verifiers = secrets.map((secret) => new Webhooks({ secret }));
  return {
    name: 'github',

    async verify(req: InboundRequest) {
      const signature = header(req, 'x-hub-signature-256');
      if (!signature) {
        throw new SignatureMissingError(
          'X-Hub-Signature-256 header is missing; set a secret in the GitHub webhook settings',
        );
      }
      if (verifiers.length === 0) {
        throw new SignatureMismatchError('no GITHUB_WEBHOOK_SECRET is configured on this server');
      }
      const text = decodeUtf8(req.body);
      if (text === null || text === '') {
        // Not UTF-8, so not JSON GitHub sent; octokit verifies strings, so check the raw bytes here to
        // tell a forged request (401) from a signed but broken one (400).
        if (SIGNATURE.test(signature) && hmacMatches(req.body, signature.slice(7), secrets)) {
          throw new MalformedPayloadError(text === '' ? 'body is empty' : 'body is not valid UTF-8');
        }
        throw new SignatureMismatchError(
          'X-Hub-Signature-256 does not match the body; check GITHUB_WEBHOOK_SECRET',
        );
      }
      // A strict decode keeps string and bytes one-to-one, so verifying the string verifies the raw bytes.
      if (SIGNATURE.test(signature)) for (const v of verifiers) if (await v.verify(text, signature)) return;
      throw new SignatureMismatchError(
        'X-Hub-Signature-256 does not match the body; check GITHUB_WEBHOOK_SECRET',
      );
    },

    parse(req: InboundRequest): ForgeResult {
      const deliveryId = requireString(header(req, 'x-github-delivery'), 'X-GitHub-Delivery header', 200);
      const event = header(req, 'x-github-event');
      if (!event) throw new MalformedPayloadError('X-GitHub-Event header is missing');
      const payload = parseJsonObject(bodyText(req));
      if (event === 'ping') return { kind: 'ping', deliveryId };
      if (event !== 'push') return { kind: 'ignored', event, deliveryId };
      return { kind: 'push', deliveryId, events: [toPushEvent(payload, deliveryId)] };
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
  const after = requireSha(p.after, 'after');
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
