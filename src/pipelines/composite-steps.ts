import type { ActionStep } from './action-def.ts';
import { IDENTIFIER } from '../core/names.ts';
import { isObj, textOf, type ActionFileReader, type Path } from './action-file-reader.ts';
import { rewriteRunScript } from './run-script.ts';
import { isPosixShell, shellCommand } from './shells.ts';
import { hasExpression } from './expr/template.ts';
import { scriptTitle } from './script-title.ts';

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

/** The `steps:` of a composite action; a step with a problem is reported and left out. */
export function compositeSteps(r: ActionFileReader, raw: unknown): ActionStep[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    r.report(r.pos.of(['runs', 'steps']), 'a composite action needs steps: a non-empty list');
    return [];
  }
  const ids = new Set<string>();
  return raw.flatMap((s, i): ActionStep[] => {
    const p: Path = ['runs', 'steps', i];
    if (!isObj(s)) {
      r.report(r.pos.of(p), 'a step is a map with run: or uses:');
      return [];
    }
    r.unknownKeys(s, p, STEP_KEYS, 'a step of a composite action');
    const id = s.id;
    if (id !== undefined) {
      if (typeof id !== 'string' || !IDENTIFIER.test(id))
        r.report(
          r.pos.of([...p, 'id']),
          'step ids are letters, digits, _ and -, starting with a letter or _',
        );
      else if (ids.has(id)) r.report(r.pos.of([...p, 'id']), `step id "${id}" is used twice`);
      else ids.add(id);
    }
    const run = s.run;
    const uses = s.uses;
    if ((run === undefined) === (uses === undefined)) {
      r.report(r.pos.of(p), 'a step has either run: or uses:');
      return [];
    }
    if (run !== undefined && (typeof run !== 'string' || run === '')) {
      r.report(r.pos.of([...p, 'run']), 'run must be a script');
      return [];
    }
    if (uses !== undefined && typeof uses !== 'string') {
      r.report(r.pos.of([...p, 'uses']), 'uses must be ./path or owner/repo@ref');
      return [];
    }
    const shellName = textOf(s.shell);
    const shell = shellName === null ? null : shellCommand(shellName);
    let script: string | null = null;
    let expressions: ActionStep['expressions'] = [];
    if (typeof run === 'string') {
      script = run;
      if (hasExpression(run)) {
        if (!isPosixShell(shell)) {
          r.report(
            r.pos.inString([...p, 'run'], run.indexOf('${{')),
            `\${{ }} in a ${shellName} script cannot be passed as data; set the value in env: and read it from the environment`,
          );
        } else {
          try {
            const rewritten = rewriteRunScript(run);
            for (const q of rewritten.problems) r.report(r.pos.inString([...p, 'run'], q.offset), q.message);
            script = rewritten.script;
            expressions = rewritten.expressions.map((e) => ({ variable: e.variable, source: e.source }));
          } catch (err) {
            r.report(r.pos.inString([...p, 'run'], run.indexOf('${{')), (err as Error).message);
          }
        }
      }
    }
    const map = (key: string): Record<string, string> => {
      const v = s[key];
      if (v === undefined || v === null) return {};
      if (!isObj(v)) {
        r.report(r.pos.of([...p, key]), `${key} must be a map`);
        return {};
      }
      const out: Record<string, string> = {};
      for (const [k, x] of Object.entries(v)) out[k] = x === null ? '' : (textOf(x) ?? JSON.stringify(x));
      return out;
    };
    const wd = s['working-directory'];
    if (wd !== undefined && typeof wd !== 'string')
      r.report(r.pos.of([...p, 'working-directory']), 'working-directory must be a path');
    const c = s['continue-on-error'];
    const name = textOf(s.name) ?? (typeof run === 'string' ? scriptTitle(run) : String(uses));
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
