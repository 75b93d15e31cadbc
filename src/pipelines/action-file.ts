import { isMap, LineCounter, parseDocument } from 'yaml';
import type { ActionDef, ActionInput } from './action-def.ts';
import { actionFileReader, isObj, textOf } from './action-file-reader.ts';
import { actionRuns } from './action-runs.ts';
import type { Diagnostic } from './diagnostic.ts';
import { Positions } from './positions.ts';

/** Why docker actions do not run. */
export const DOCKER_ACTION_PROBLEM =
  'docker actions need a container engine, which pushci does not have configured';

/** Larger action.yml files are refused before parsing. */
export const MAX_ACTION_FILE_BYTES = 256 * 1024;

const TOP_KEYS = ['name', 'description', 'author', 'inputs', 'outputs', 'runs', 'branding'];
const INPUT_KEYS = ['description', 'required', 'default', 'deprecationMessage'];

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
  const r = actionFileReader(file, pos, diagnostics);
  for (const e of doc.errors) {
    const at = lines.linePos(e.pos[0]);
    r.report({ line: at.line, col: at.col }, e.message.split('\n')[0]!);
  }
  if (diagnostics.length > 0) return { action: null, diagnostics };
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!isMap(doc.contents) || !isObj(data)) {
    r.report({ line: 1, col: 1 }, 'an action file is a map with name, inputs, outputs and runs');
    return { action: null, diagnostics };
  }
  const top = data;
  r.unknownKeys(top, [], TOP_KEYS, 'an action file');

  const inputs: Record<string, ActionInput> = {};
  if (top.inputs !== undefined && top.inputs !== null) {
    if (!isObj(top.inputs)) r.report(r.pos.of(['inputs']), 'inputs must be a map of input names');
    else
      for (const [name, def] of Object.entries(top.inputs)) {
        const p = ['inputs', name];
        if (def === null) {
          inputs[name] = { required: false, default: null };
          continue;
        }
        if (!isObj(def)) {
          r.report(r.pos.of(p), `input "${name}" must be a map (description, required, default)`);
          continue;
        }
        r.unknownKeys(def, p, INPUT_KEYS, `input "${name}"`);
        const req = def.required;
        if (req !== undefined && typeof req !== 'boolean' && req !== 'true' && req !== 'false')
          r.report(r.pos.of([...p, 'required']), 'required must be true or false');
        const d = def.default;
        if (d !== undefined && d !== null && textOf(d) === null)
          r.report(r.pos.of([...p, 'default']), 'default must be text, a number or a boolean');
        inputs[name] = {
          required: req === true || req === 'true',
          default: d === undefined || d === null ? null : textOf(d),
        };
      }
  }

  const parsedRuns = actionRuns(r, top.runs);

  const outputs: Record<string, string | null> = {};
  if (top.outputs !== undefined && top.outputs !== null) {
    if (!isObj(top.outputs)) r.report(r.pos.of(['outputs']), 'outputs must be a map of output names');
    else
      for (const [name, def] of Object.entries(top.outputs)) {
        const value = isObj(def) ? def.value : undefined;
        if (parsedRuns?.using === 'composite') {
          if (typeof value !== 'string')
            r.report(
              r.pos.of(['outputs', name]),
              `output "${name}" of a composite action needs value: (e.g. \${{ steps.<id>.outputs.<name> }})`,
            );
          else outputs[name] = value;
        } else outputs[name] = null;
      }
  }

  if (diagnostics.length > 0 || parsedRuns === null) return { action: null, diagnostics };
  return {
    action: { name: textOf(top.name) ?? '', inputs, outputs, runs: parsedRuns },
    diagnostics,
  };
}
