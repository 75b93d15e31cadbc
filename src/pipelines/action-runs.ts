import type { ActionRuns } from './action-def.ts';
import { compositeSteps } from './composite-steps.ts';
import { isObj, type ActionFileReader } from './action-file-reader.ts';

const NODE_VERSIONS = ['node12', 'node16', 'node20', 'node24'] as const;

/** The `runs:` of an action file: composite, node or docker; null (with the problems reported) when unusable. */
export function actionRuns(r: ActionFileReader, runs: unknown): ActionRuns | null {
  if (!isObj(runs)) {
    r.report(
      r.pos.of(runs === undefined ? [] : ['runs']),
      runs === undefined
        ? 'missing required key "runs": how the action runs (using: composite, node20, …)'
        : 'runs must be a map with using:',
    );
    return null;
  }
  const using = runs.using;
  if (using === 'composite') {
    r.unknownKeys(runs, ['runs'], ['using', 'steps'], 'runs of a composite action');
    return { using: 'composite', steps: compositeSteps(r, runs.steps) };
  } else if (typeof using === 'string' && (NODE_VERSIONS as readonly string[]).includes(using)) {
    r.unknownKeys(
      runs,
      ['runs'],
      ['using', 'main', 'pre', 'post', 'pre-if', 'post-if'],
      'runs of a node action',
    );
    const script = (key: string, required: boolean): string | null => {
      const v = runs[key];
      if (v === undefined || v === null) {
        if (required)
          r.report(r.pos.of(['runs']), `missing required key "${key}" in runs: the script to run`);
        return null;
      }
      if (typeof v !== 'string' || v === '' || v.startsWith('/') || v.split(/[\\/]/).includes('..')) {
        r.report(r.pos.of(['runs', key]), `${key} must be a path inside the action (relative, without "..")`);
        return null;
      }
      return v;
    };
    const cond = (key: string): string | null => {
      const v = runs[key];
      if (v === undefined || v === null) return null;
      if (typeof v === 'boolean') return String(v);
      if (typeof v !== 'string' || v.trim() === '') {
        r.report(r.pos.of(['runs', key]), `${key} must be an expression such as always()`);
        return null;
      }
      return v;
    };
    return {
      using: using as (typeof NODE_VERSIONS)[number],
      main: script('main', true) ?? '',
      pre: script('pre', false),
      post: script('post', false),
      preIf: cond('pre-if'),
      postIf: cond('post-if'),
    };
  }
  if (using === 'docker') return { using: 'docker' };
  r.report(
    r.pos.of(using === undefined ? ['runs'] : ['runs', 'using']),
    using === undefined
      ? 'missing required key "using" in runs: composite, node12, node16, node20, node24 or docker'
      : `runs.using "${String(using)}" is not known (composite, node12, node16, node20, node24 or docker)`,
  );
  return null;
}
