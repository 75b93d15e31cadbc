import type { Annotation } from '../model.ts';

export type WorkflowCommand =
  | { kind: 'add-mask'; value: string }
  | { kind: 'annotation'; annotation: Omit<Annotation, 'step'> }
  | { kind: 'stop-commands'; token: string }
  /** The old `::set-output name=x::v` and `::save-state name=x::v`, which actions written before the command files still print. */
  | { kind: 'set-output' | 'save-state'; name: string; value: string }
  | { kind: 'debug'; message: string };

const unescapeData = (s: string) => s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
const unescapeProperty = (s: string) => unescapeData(s).replace(/%3A/gi, ':').replace(/%2C/gi, ',');

const COMMAND = /^::([A-Za-z-]+)(?:\s+([^:]*))?::(.*)$/;

/**
 * Parses one line of a step's standard output as a workflow command (GitHub's `::name k=v,k=v::data`),
 * or null for ordinary output. `::group::`/`::endgroup::` stay in the log as they are (the log view
 * folds them) and are not returned.
 */
export function parseWorkflowCommand(line: string): WorkflowCommand | null {
  const m = COMMAND.exec(line.trimStart());
  if (!m) return null;
  const name = m[1]!.toLowerCase();
  const data = unescapeData(m[3] ?? '');
  const props: Record<string, string> = {};
  for (const part of (m[2] ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) props[part.slice(0, eq).trim().toLowerCase()] = unescapeProperty(part.slice(eq + 1).trim());
  }
  const num = (k: string) => {
    const v = props[k];
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
  };
  switch (name) {
    case 'add-mask':
      return { kind: 'add-mask', value: data };
    case 'stop-commands':
      return { kind: 'stop-commands', token: data };
    case 'debug':
      return { kind: 'debug', message: data };
    case 'set-output':
    case 'save-state':
      return props.name ? { kind: name, name: props.name, value: data } : null;
    case 'error':
    case 'warning':
    case 'notice':
      return {
        kind: 'annotation',
        annotation: {
          level: name,
          message: data,
          title: props.title ?? null,
          file: props.file ?? null,
          line: num('line'),
          end_line: num('endline'),
          col: num('col'),
          end_column: num('endcolumn'),
        },
      };
    default:
      return null;
  }
}
