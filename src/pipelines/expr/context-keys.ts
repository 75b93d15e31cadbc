/** The `github` context properties pushci fills in (the worker's contexts test checks it keeps this promise). */
export const GITHUB_CONTEXT_KEYS = [
  'action',
  'actor',
  'base_ref',
  'event',
  'event_name',
  'head_ref',
  'job',
  'ref',
  'ref_name',
  'ref_type',
  'repository',
  'repository_owner',
  'run_attempt',
  'run_id',
  'run_number',
  'server_url',
  'sha',
  'triggering_actor',
  'workflow',
  'workspace',
] as const;

export const RUNNER_CONTEXT_KEYS = [
  'arch',
  'debug',
  'environment',
  'name',
  'os',
  'temp',
  'tool_cache',
] as const;
export const JOB_CONTEXT_KEYS = ['services', 'status'] as const;
export const STRATEGY_CONTEXT_KEYS = ['fail-fast', 'job-index', 'job-total', 'max-parallel'] as const;
export const STEP_RESULT_KEYS = ['outputs', 'outcome', 'conclusion'] as const;
