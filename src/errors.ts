/**
 * Named errors. Each carries a stable `code` that API clients can rely on; the HTTP status for each code
 * is decided in one place, `http/error-response.ts`.
 */
export class PushciError extends Error {
  readonly code: string = 'internal_error';
  /** Extra JSON fields for the error body (never secrets). */
  readonly details: Record<string, unknown> | undefined;
  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** The request carries no signature or token where one is required. */
export class SignatureMissingError extends PushciError {
  override readonly code = 'signature_missing';
}

/** The signature or token does not match any configured secret. */
export class SignatureMismatchError extends PushciError {
  override readonly code = 'signature_mismatch';
}

/** The body is not the JSON document the forge sends (after it was verified). */
export class MalformedPayloadError extends PushciError {
  override readonly code = 'malformed_payload';
}

/** The body is larger than `PUSHCI_MAX_BODY_BYTES`. */
export class PayloadTooLargeError extends PushciError {
  override readonly code = 'payload_too_large';
}

/** The content type is not one the endpoint accepts. */
export class UnsupportedMediaTypeError extends PushciError {
  override readonly code = 'unsupported_media_type';
}

/** Redis could not be reached, so nothing was stored. */
export class StoreUnavailableError extends PushciError {
  override readonly code = 'store_unavailable';
}

/** A repository pushci had to read to take a webhook (a pull request's source) did not answer. */
export class RepositoryUnavailableError extends PushciError {
  override readonly code = 'repository_unavailable';
}

/** `/api` was called without a valid bearer token. */
export class UnauthorizedError extends PushciError {
  override readonly code = 'unauthorized';
}

/** The caller may not use this endpoint from where it is (e.g. the API without a token from outside). */
export class ForbiddenError extends PushciError {
  override readonly code = 'forbidden';
}

/** A state-changing request that may come from another site's page (no same-origin proof, no bearer). */
export class CrossSiteRequestError extends PushciError {
  override readonly code = 'cross_site_request';
}

/** The receiver holds as many unverified webhook bytes as PUSHCI_MAX_INTAKE_BYTES allows; retry later. */
export class IntakeBusyError extends PushciError {
  override readonly code = 'intake_busy';
}

/** Bull Board is read-only unless PUSHCI_ADMIN_WRITE=true. */
export class AdminReadOnlyError extends PushciError {
  override readonly code = 'admin_read_only';
}

/** A source sent more webhooks than `PUSHCI_RATE_LIMIT` allows. */
export class RateLimitedError extends PushciError {
  override readonly code = 'rate_limited';
}

/** The route exists, but not for this method (`details.allow` lists the ones it takes). */
export class MethodNotAllowedError extends PushciError {
  override readonly code = 'method_not_allowed';
}

export class NotFoundError extends PushciError {
  override readonly code = 'not_found';
}

/** The action does not apply in the resource's current state (e.g. cancelling a finished build). */
export class ConflictError extends PushciError {
  override readonly code = 'conflict';
}

export class InvalidRequestError extends PushciError {
  override readonly code = 'invalid_request';
}

/** A setting is missing or wrong; the message says which and what to do. */
export class ConfigError extends PushciError {
  override readonly code = 'config_error';
}

/** A forge API call cannot be made: no token is configured, or the forge has no such API. */
export class MissingTokenError extends PushciError {
  override readonly code = 'missing_token';
}

/** The command line is wrong (unknown command or flag, missing argument): the CLI exits 2. */
export class UsageError extends PushciError {
  override readonly code = 'usage';
}

/** A state move the transition table (core/states.ts) does not allow was asked for: a bug in the caller. */
export class InvalidTransitionError extends PushciError {
  override readonly code = 'invalid_transition';
}
