import { InvalidRequestError } from '../errors.ts';

/** A name for the record (the API has one token, so the caller says who they are). */
const WHO = /^[\p{L}\p{N} ._@+-]{1,100}$/u;

/** `"by"` of an approval or a manual build: a short name, or an `InvalidRequestError` saying what fits. */
export function checkWho(by: unknown): string {
  if (typeof by !== 'string' || !WHO.test(by))
    throw new InvalidRequestError('"by" must be a name of 1 to 100 letters, digits, spaces and ._@+-');
  return by;
}
