import type { Config } from '../config.ts';
import type { Setting } from '../settings.ts';
import type { PullRequestEvent, PushEvent } from '../core/event.ts';
import type { BuildStatus, ForgeName } from '../model.ts';

/** A webhook request as it arrived: headers (lower-case names) and the exact raw body. */
export interface InboundRequest {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

/**
 * What a verified delivery means (the return contract of `Inbound.parse`):
 * - `build`: valid, and something may build: one push per ref (Bitbucket sends several refs in one
 *   delivery), or one pull request opened, updated with new commits or reopened. The pipelines decide
 *   what runs; when none matches, or the ref was deleted, the answer is 200 with the reason and nothing
 *   is stored.
 * - `ping`: the forge checking the hook is reachable and the secret right; answer 200, store nothing.
 * - `ignored`: a valid delivery of an event pushci does not act on (or a pull request closed, labelled,
 *   edited...); answer 202 "ignored: <event>" with `reason` when there is one, store nothing.
 * Errors are thrown, never returned: `verify` throws `SignatureMissingError` or `SignatureMismatchError`
 * (401, nothing of the body parsed); `parse` throws `MalformedPayloadError` (400) for a body the forge
 * would not send.
 */
export type ForgeResult =
  | {
      kind: 'build';
      deliveryId: string;
      events: Array<PushEvent | PullRequestEvent>;
    }
  | { kind: 'ping'; deliveryId: string }
  | { kind: 'ignored'; event: string; deliveryId: string; reason?: string };

/**
 * The receiving half of a forge. The receiver calls `verify` on the raw bytes first and `parse` only when
 * it passed, so nothing from an unauthenticated body is ever parsed.
 */
export interface Inbound {
  readonly name: ForgeName;
  /**
   * Each delivery's body names its own push (GitHub's `repository.pushed_at`, a pull request's
   * `updated_at`), so the same signed bytes under a new delivery id can only be a replay and are
   * refused (`PUSHCI_REPLAY_WINDOW`). Forges whose bodies carry no such field (GitLab, Bitbucket, Gitea,
   * Forgejo) leave it unset: there a branch moved between the same two commits again, or a tag deleted
   * and pushed again, sends the same bytes, and refusing them would lose a real push.
   */
  readonly uniqueBodies?: true;
  /**
   * Names a verified body for that check without hashing it again: a signature `verify` accepted is
   * an HMAC of the exact bytes, as unique to them as their SHA-256 (which is used without this).
   */
  bodyDigest?(req: InboundRequest): string;
  /** Resolves when the request is authentic; throws `SignatureMissingError` or `SignatureMismatchError`. */
  verify(req: InboundRequest): Promise<void>;
  /** Reads a verified request (see `ForgeResult`). Throws `MalformedPayloadError` for a broken body. */
  parse(req: InboundRequest): ForgeResult;
}

/** A commit status to set on the forge for a build. */
export interface CommitStatus {
  repository: string;
  sha: string;
  /** Branch or tag name (GitLab wants it). */
  ref: string;
  status: BuildStatus;
  /** The status's name on the forge, e.g. `pushci/web`. */
  context: string;
  description: string;
  targetUrl: string;
}

/** One forge API call, made by the delivery worker with its retries and attempt log. */
export interface ApiCall {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What `pushci hooks create|check` prints, and whether everything was fine. */
export interface HookReport {
  ok: boolean;
  lines: string[];
}

/** Registering and checking pushci's webhook through the forge's API. */
export interface HookManager {
  /** Registers the hook (once: an existing hook with the same URL is kept). Throws `ConfigError` without a token. */
  create(config: Readonly<Config>, repository: string): Promise<HookReport>;
  /** Says what is wrong with the hook: none, a wrong URL, wrong events, failing deliveries. */
  check(config: Readonly<Config>, repository: string, now?: number): Promise<HookReport>;
}

/** What `pushci init` writes and prints for a forge. */
export interface ForgeSetup {
  /** The `.env` variable that holds the webhook secret `init` generates. */
  secretEnv: string;
  /** The lines to paste into the forge's webhook settings. */
  instructions(a: { repository: string; hookUrl: string; secret: string }): string[];
}

/** How `POST /webhooks/<name>` is described in the OpenAPI document. */
export interface WebhookDoc {
  summary: string;
  headers: ReadonlyArray<{ name: string; description: string; required?: boolean }>;
  /** Also accepts `application/x-www-form-urlencoded` with the JSON in `payload`. */
  formBody?: boolean;
}

/**
 * One forge: everything pushci knows about it, in its folder `src/forges/<name>/`. The registry
 * (`registry.ts`) lists them; the receiver, `init`, `doctor`, `hooks`, the OpenAPI document, the settings
 * table and commit statuses all read it from there. A forge without an API pushci uses has `null` for
 * `commitStatus` and `hooks`.
 */
export interface Forge<Rows extends readonly Setting[] = readonly Setting[]> {
  readonly name: ForgeName;
  /** For people: `GitHub`, `GitLab`. */
  readonly title: string;
  /** Its rows of the settings table (env var, flag, default, doc); `Config` has a field for each. */
  readonly settings: Rows;
  /** Its webhook secrets by setting, for the startup warning and `doctor`. */
  webhookSecrets(config: Readonly<Config>): Array<{ env: string; values: readonly string[] }>;
  /** Verifies and parses its webhooks with the configured secrets. */
  inbound(config: Readonly<Config>): Inbound;
  /** Default clone URL of a repository (never from a payload). */
  cloneUrl(config: Readonly<Config>, repository: string): string;
  /** The API call that sets a commit status; throws `MissingTokenError` without a token. */
  readonly commitStatus: ((status: CommitStatus, config: Readonly<Config>) => ApiCall) | null;
  readonly hooks: HookManager | null;
  /**
   * The ref the forge keeps a pull request's head under, made from its number (never taken from a
   * payload; see `pullRequestRef`), or null where it serves none (then `pullRequestSource` says where).
   */
  pullRequestRef(number: number): string | null;
  readonly setup: ForgeSetup;
  readonly webhookDoc: WebhookDoc;
}

/** First value of a header, whatever its multiplicity. */
export function header(req: InboundRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `<base>/<owner/name>.git`, the usual clone URL under a web base URL. */
export function cloneUrlUnder(base: string, repository: string): string {
  return `${base.replace(/\/+$/, '')}/${repository}.git`;
}
