import { MalformedPayloadError, SignatureMismatchError, SignatureMissingError } from '../../errors.ts';
import { header, type ForgeResult, type Inbound, type InboundRequest } from '../forge.ts';
import { hmacMatches } from '../hmac.ts';
import { decodeUtf8, parseJsonObject, requireString, utf8Problem } from '../payload.ts';
import { githubShapedPullRequest, githubShapedPush, type GithubDialect } from '../github-shaped.ts';

const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

const GITHUB: GithubDialect = {
  forge: 'github',
  actions: new Map([
    ['opened', 'opened'],
    ['synchronize', 'synchronize'],
    ['reopened', 'reopened'],
  ]),
  pusher: 'name',
  pushFlags: true,
  giteaFields: false,
};

/** GitHub: `X-Hub-Signature-256` HMAC over the exact raw body, every secret tried, in constant time. */
export function createGithubInbound(secrets: readonly string[]): Inbound {
  return {
    name: 'github',
    uniqueBodies: true,

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
      const problem = utf8Problem(req.body);
      if (problem)
        throw new MalformedPayloadError(problem === 'empty' ? 'body is empty' : 'body is not valid UTF-8');
    },

    // A replay carries the captured signature as it is: a sender without the secret cannot sign the same
    // bytes any other way.
    bodyDigest: (req) => header(req, 'x-hub-signature-256')!.slice(7),

    parse(req: InboundRequest): ForgeResult {
      const deliveryId = requireString(header(req, 'x-github-delivery'), 'X-GitHub-Delivery header', 200);
      const event = header(req, 'x-github-event');
      if (!event) throw new MalformedPayloadError('X-GitHub-Event header is missing');
      const payload = parseJsonObject(bodyText(req));
      if (event === 'ping') return { kind: 'ping', deliveryId };
      if (event === 'pull_request') return githubShapedPullRequest(GITHUB, payload, deliveryId);
      if (event !== 'push') return { kind: 'ignored', event, deliveryId };
      return { kind: 'build', deliveryId, events: [githubShapedPush(GITHUB, payload, deliveryId)] };
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
