import { isMap, LineCounter, parseDocument } from 'yaml';
import type { Diagnostic } from './diagnostic.ts';
import { Positions } from './positions.ts';
import { rewriteRunScript } from './run-script.ts';
import { isPosixShell, shellCommand } from './shells.ts';
import { hasExpression } from './expr/template.ts';

/** Why docker actions do not run. */
export const DOCKER_ACTION_PROBLEM =
  'docker actions need a container engine, which pushci does not have configured';

/** Larger action.yml files are refused before parsing. */
export const MAX_ACTION_FILE_BYTES = 256 * 1024;

export interface ActionInput {
  required: boolean;
  /** As written (may hold `${{ }}`), or null. */
  default: string | null;
}

/** One step of a composite action, as the runner needs it. */
export interface ActionStep {
  id: string | null;
  name: string;
  if: string | null;
  /** The script with each `${{ }}` replaced by a variable reference (see rewriteRunScript), or null for `uses:`. */
  script: string | null;
  expressions: Array<{ variable: string; source: string }>;
  shell: string | null;
  uses: string | null;
  with: Record<string, string>;
  env: Record<string, string>;
  workingDirectory: string | null;
  continueOnError: boolean | string;
}

export type ActionRuns =
  | { using: 'composite'; steps: ActionStep[] }
  | {
      using: 'node12' | 'node16' | 'node20' | 'node24';
      main: string;
      pre: string | null;
      post: string | null;
      preIf: string | null;
      postIf: string | null;
    }
  | { using: 'docker' };

/** A parsed action.yml. */
export interface ActionDef {
  name: string;
  /** By name as written; GitHub matches input names without regard to case. */
  inputs: Record<string, ActionInput>;
  /** Composite outputs map to a `value:` template; node actions' outputs come from GITHUB_OUTPUT (null). */
  outputs: Record<string, string | null>;
  runs: ActionRuns;
}

const NODE_VERSIONS = ['node12', 'node16', 'node20', 'node24'] as const;
const TOP_KEYS = ['name', 'description', 'author', 'inputs', 'outputs', 'runs', 'branding'];
const INPUT_KEYS = ['description', 'required', 'default', 'deprecationMessage'];
const STEP_KEYS = [
  'id',
  'name',
  'if',
  'run',
  'shell',
  'uses',
  'with',
  'env',
  'working-directory',
  'continue-on-error',
];
const ID = /^[A-Za-z_][A-Za-z0-9_-]{0,99}$/;

type Path = PropertyKey[];

/**
 * Parses an action's `action.yml` and checks what pushci needs of it. Collects every problem as a
 * diagnostic at its line and column in `file` (the name shown: the action's folder and file).
 */
export function parseActionFile(
  file: string,
  text: string,
): { action: ActionDef | null; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  if (Buffer.byteLength(text) > MAX_ACTION_FILE_BYTES)
    return {
      action: null,
      diagnostics: [{ file, line: 1, col: 1, message: `larger than ${MAX_ACTION_FILE_BYTES} bytes` }],
    };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const pos = new Positions(doc, lines, text);
  const report = (at: { line: number; col: number }, message: string) =>
    diagnostics.push({ file, ...at, message });
  for (const e of doc.errors) {
    const at = lines.linePos(e.pos[0]);
    report({ line: at.line, col: at.col }, e.message.split('\n')[0]!);
  }
  if (diagnostics.length > 0) return { action: null, diagnostics };
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!isMap(doc.contents) || data === null || typeof data !== 'object' || Array.isArray(data)) {
    report({ line: 1, col: 1 }, 'an action file is a map with name, inputs, outputs and runs');
    return { action: null, diagnostics };
  }
  const isObj = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  const text_ = (v: unknown): string | null =>
    typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;
  const unknownKeys = (obj: Record<string, unknown>, path: Path, known: string[], where: string) => {
    for (const k of Object.keys(obj))
      if (!known.includes(k))
        report(pos.ofKey(path, k), `unknown key "${k}" in ${where} (expected one of: ${known.join(', ')})`);
  };
  const top = data as Record<string, unknown>;
  unknownKeys(top, [], TOP_KEYS, 'an action file');

  const inputs: Record<string, ActionInput> = {};
  if (top.inputs !== undefined && top.inputs !== null) {
    if (!isObj(top.inputs)) report(pos.of(['inputs']), 'inputs must be a map of input names');
    else
      for (const [name, def] of Object.entries(top.inputs)) {
        const p = ['inputs', name];
        if (def === null) {
          inputs[name] = { required: false, default: null };
          continue;
        }
        if (!isObj(def)) {
          report(pos.of(p), `input "${name}" must be a map (description, required, default)`);
          continue;
        }
        unknownKeys(def, p, INPUT_KEYS, `input "${name}"`);
        const r = def.required;
        if (r !== undefined && typeof r !== 'boolean' && r !== 'true' && r !== 'false')
          report(pos.of([...p, 'required']), 'required must be true or false');
        const d = def.default;
        if (d !== undefined && d !== null && text_(d) === null)
          report(pos.of([...p, 'default']), 'default must be text, a number or a boolean');
        inputs[name] = {
          required: r === true || r === 'true',
          default: d === undefined || d === null ? null : text_(d),
        };
      }
  }

  const runs = top.runs;
  let parsedRuns: ActionRuns | null = null;
  if (!isObj(runs)) {
    report(
      pos.of(runs === undefined ? [] : ['runs']),
      runs === undefined
        ? 'missing required key "runs": how the action runs (using: composite, node20, …)'
        : 'runs must be a map with using:',
    );
  } else {
    const using = runs.using;
    if (using === 'composite') {
      unknownKeys(runs, ['runs'], ['using', 'steps'], 'runs of a composite action');
      parsedRuns = { using: 'composite', steps: compositeSteps(runs.steps) };
    } else if (typeof using === 'string' && (NODE_VERSIONS as readonly string[]).includes(using)) {
      unknownKeys(
        runs,
        ['runs'],
        ['using', 'main', 'pre', 'post', 'pre-if', 'post-if'],
        'runs of a node action',
      );
      const script = (key: string, required: boolean): string | null => {
        const v = runs[key];
        if (v === undefined || v === null) {
          if (required) report(pos.of(['runs']), `missing required key "${key}" in runs: the script to run`);
          return null;
        }
        if (typeof v !== 'string' || v === '' || v.startsWith('/') || v.split(/[\\/]/).includes('..')) {
          report(pos.of(['runs', key]), `${key} must be a path inside the action (relative, without "..")`);
          return null;
        }
        return v;
      };
      const cond = (key: string): string | null => {
        const v = runs[key];
        if (v === undefined || v === null) return null;
        if (typeof v === 'boolean') return String(v);
        if (typeof v !== 'string' || v.trim() === '') {
          report(pos.of(['runs', key]), `${key} must be an expression such as always()`);
          return null;
        }
        return v;
      };
      parsedRuns = {
        using: using as (typeof NODE_VERSIONS)[number],
        main: script('main', true) ?? '',
        pre: script('pre', false),
        post: script('post', false),
        preIf: cond('pre-if'),
        postIf: cond('post-if'),
      };
    } else if (using === 'docker') parsedRuns = { using: 'docker' };
    else
      report(
        pos.of(using === undefined ? ['runs'] : ['runs', 'using']),
        using === undefined
          ? 'missing required key "using" in runs: composite, node12, node16, node20, node24 or docker'
          : `runs.using "${String(using)}" is not known (composite, node12, node16, node20, node24 or docker)`,
      );
  }

  const outputs: Record<string, string | null> = {};
  if (top.outputs !== undefined && top.outputs !== null) {
    if (!isObj(top.outputs)) report(pos.of(['outputs']), 'outputs must be a map of output names');
    else
      for (const [name, def] of Object.entries(top.outputs)) {
        const value = isObj(def) ? def.value : undefined;
        if (parsedRuns?.using === 'composite') {
          if (typeof value !== 'string')
            report(
              pos.of(['outputs', name]),
              `output "${name}" of a composite action needs value: (e.g. \${{ steps.<id>.outputs.<name> }})`,
            );
          else outputs[name] = value;
        } else outputs[name] = null;
      }
  }

  function compositeSteps(raw: unknown): ActionStep[] {
    if (!Array.isArray(raw) || raw.length === 0) {
      report(pos.of(['runs', 'steps']), 'a composite action needs steps: a non-empty list');
      return [];
    }
    const ids = new Set<string>();
    return raw.flatMap((s, i): ActionStep[] => {
      const p: Path = ['runs', 'steps', i];
      if (!isObj(s)) {
        report(pos.of(p), 'a step is a map with run: or uses:');
        return [];
      }
      unknownKeys(s, p, STEP_KEYS, 'a step of a composite action');
      const id = s.id;
      if (id !== undefined) {
        if (typeof id !== 'string' || !ID.test(id))
          report(pos.of([...p, 'id']), 'step ids are letters, digits, _ and -, starting with a letter or _');
        else if (ids.has(id)) report(pos.of([...p, 'id']), `step id "${id}" is used twice`);
        else ids.add(id);
      }
      const run = s.run;
      const uses = s.uses;
      if ((run === undefined) === (uses === undefined)) {
        report(pos.of(p), 'a step has either run: or uses:');
        return [];
      }
      if (run !== undefined && (typeof run !== 'string' || run === '')) {
        report(pos.of([...p, 'run']), 'run must be a script');
        return [];
      }
      if (uses !== undefined && typeof uses !== 'string') {
        report(pos.of([...p, 'uses']), 'uses must be ./path or owner/repo@ref');
        return [];
      }
      const shellName = text_(s.shell);
      const shell = shellName === null ? null : shellCommand(shellName);
      let script: string | null = null;
      let expressions: ActionStep['expressions'] = [];
      if (typeof run === 'string') {
        script = run;
        if (hasExpression(run)) {
          if (!isPosixShell(shell)) {
            report(
              pos.inString([...p, 'run'], run.indexOf('${{')),
              `\${{ }} in a ${shellName} script cannot be passed as data; set the value in env: and read it from the environment`,
            );
          } else {
            try {
              const r = rewriteRunScript(run);
              for (const q of r.problems) report(pos.inString([...p, 'run'], q.offset), q.message);
              script = r.script;
              expressions = r.expressions.map((e) => ({ variable: e.variable, source: e.source }));
            } catch (err) {
              report(pos.inString([...p, 'run'], run.indexOf('${{')), (err as Error).message);
            }
          }
        }
      }
      const map = (key: string): Record<string, string> => {
        const v = s[key];
        if (v === undefined || v === null) return {};
        if (!isObj(v)) {
          report(pos.of([...p, key]), `${key} must be a map`);
          return {};
        }
        const out: Record<string, string> = {};
        for (const [k, x] of Object.entries(v)) out[k] = x === null ? '' : (text_(x) ?? JSON.stringify(x));
        return out;
      };
      const wd = s['working-directory'];
      if (wd !== undefined && typeof wd !== 'string')
        report(pos.of([...p, 'working-directory']), 'working-directory must be a path');
      const c = s['continue-on-error'];
      const name =
        text_(s.name) ?? (typeof run === 'string' ? run.split('\n')[0]!.slice(0, 80) : String(uses));
      return [
        {
          id: typeof id === 'string' ? id : null,
          name,
          if: s.if === undefined || s.if === null ? null : String(s.if),
          script,
          expressions,
          shell,
          uses: typeof uses === 'string' ? uses : null,
          with: map('with'),
          env: map('env'),
          workingDirectory: typeof wd === 'string' ? wd : null,
          continueOnError: typeof c === 'boolean' ? c : typeof c === 'string' ? c : false,
        },
      ];
    });
  }

  if (diagnostics.length > 0 || parsedRuns === null) return { action: null, diagnostics };
  return {
    action: { name: text_(top.name) ?? '', inputs, outputs, runs: parsedRuns },
    diagnostics,
  };
}
