/**
 * GitHub Actions events pushci does not build on, each with what to do instead (empty: nothing
 * comes close): a workflow copied from GitHub gets one `not supported:` line per event it names, not
 * "unknown key".
 */
export const UNSUPPORTED_EVENTS: Readonly<Record<string, string>> = {
  pull_request_target:
    'it gives a fork’s pull request the base repository’s secrets; use pull_request, whose fork builds follow pull-requests.forks (approval first by default, never secrets)',
  workflow_call: 'reusable workflows: copy this file’s jobs into the pipelines that would call it',
  workflow_run: 'put both workflows in one pipeline and order their jobs with needs:',
  repository_dispatch: 'start a build with POST /api/pipelines/<name>/trigger (pushci trigger)',
  release: 'build the release’s tag with on.push.tags (e.g. tags: [v*])',
  create: 'build new branches and tags with on.push (branches, tags)',
  delete: 'pushci builds commits, and a deleted branch has none',
  merge_group: '',
  pull_request_review: '',
  pull_request_review_comment: '',
  issue_comment: '',
  issues: '',
  discussion: '',
  discussion_comment: '',
  label: '',
  milestone: '',
  deployment: '',
  deployment_status: '',
  check_run: '',
  check_suite: '',
  status: '',
  fork: '',
  watch: '',
  public: '',
  gollum: '',
  page_build: '',
  registry_package: '',
  branch_protection_rule: '',
  project: '',
  project_card: '',
  project_column: '',
};

/** The `not supported:` message for an event of UNSUPPORTED_EVENTS. */
export function unsupportedEventMessage(event: string): string {
  const advice = UNSUPPORTED_EVENTS[event];
  return `not supported: the ${event} event (pushci builds on push, pull_request, schedule and workflow_dispatch)${advice ? `; ${advice}` : ''}`;
}
