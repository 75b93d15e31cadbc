import { createHash } from 'node:crypto';
import { InvalidRequestError, NotFoundError } from '../errors.ts';
import { IDENTIFIER } from '../core/names.ts';

export const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/**
 * Any name upload-artifact accepts (it refuses `" : < > | * ? \ /` and line breaks), at most 100
 * characters, not starting with "." or a space. Names outside ARTIFACT_NAME never become paths: their files
 * are named after a hash of the name.
 */
export const ANY_ARTIFACT_NAME = /^[^"\\/:<>|*?\x00-\x1f\x7f. ][^"\\/:<>|*?\x00-\x1f\x7f]{0,99}$/u;
/** A build id as it may appear in an artifact's path. */
export const BUILD_ID = /^[0-9a-z]{1,64}$/;
/** A job name as it may appear in an upload's file names. */
export const JOB_NAME = IDENTIFIER;

/** The name an artifact's files use: the name itself when it is plain, else `~` and a hash of it. */
export function artifactDiskName(name: string): string {
  return ARTIFACT_NAME.test(name) ? name : `~${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
}

/** Refuses a build id that cannot be a build's (NotFoundError) and a name upload-artifact would refuse. */
export function checkArtifactName(buildId: string, name: string): void {
  if (!BUILD_ID.test(buildId)) throw new NotFoundError(`no build ${buildId}`);
  if (!ANY_ARTIFACT_NAME.test(name))
    throw new InvalidRequestError(
      'an artifact name is at most 100 characters without " : < > | * ? \\ / or line breaks, not starting with "." or a space',
    );
}
