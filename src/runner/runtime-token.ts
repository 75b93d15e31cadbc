/**
 * The `ACTIONS_RUNTIME_TOKEN` a job's steps see: shaped like GitHub's (a JWT whose `scp` claim
 * `Actions.Results:<run>:<job>` is where `@actions/artifact` reads its backend ids), but unsigned and
 * authorising nothing. The job's gateway holds the real credential and the server checks every id
 * against it, so a step that forges this token reaches nothing more.
 */
export function runtimeToken(buildId: string, job: string): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const claims = { iss: 'pushci', scp: `Actions.GenericRead Actions.Results:${buildId}:${job}` };
  return `${part({ typ: 'JWT', alg: 'none' })}.${part(claims)}.`;
}
