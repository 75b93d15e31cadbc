import { MalformedPayloadError, SignatureMismatchError, SignatureMissingError } from '../../errors.ts';
import { header, type ForgeResult, type Inbound, type InboundRequest } from '../forge.ts';
import { hmacMatches } from '../hmac.ts';
import { decodeUtf8, parseJsonObject, requireString } from '../payload.ts';
import { githubShapedPullRequest, githubShapedPush, type GithubDialect } from '../github-shaped.ts';

const GITEA: GithubDialect = {
  forge: 'gitea',
  actions: new Map([
    ['opened', 'opened'],
    ['synchronized', 'synchronize'],
    ['reopened', 'reopened'],
  ]),
  pusher: 'login',
  pushFlags: false,
  giteaFields: true,
};

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
  const dialect: GithubDialect = { ...GITEA, forge: name };
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
      if (event === 'pull_request') return githubShapedPullRequest(dialect, payload, deliveryId);
      if (event !== 'push') return { kind: 'ignored', event, deliveryId };
      return { kind: 'build', deliveryId, events: [githubShapedPush(dialect, payload, deliveryId)] };
    },
  };
}
