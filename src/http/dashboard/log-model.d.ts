// Types of log-model.js, for the Node tests that import it.
export interface LogLine {
  n: number;
  t: number | null;
  stream: 'out' | 'err' | 'sys';
  text: string;
  section?: number;
  hidden?: boolean;
}
export interface LogGroup {
  title: string;
  lines: number[];
  start: number;
}
export interface LogSection {
  index: number;
  kind: 'setup' | 'step';
  name: string;
  shell?: string | null;
  status: string;
  start: number | null;
  end: number | null;
  lines: number[];
  groups: LogGroup[];
  /** The action section this one is inside (an action's own steps, its pre and post), or null. */
  parent: number | null;
  children: number[];
}
export function parseLine(raw: string, n: number): LogLine;
export class LogModel {
  lines: LogLine[];
  sections: LogSection[];
  on(fn: (kind: string, ...args: unknown[]) => void): void;
  add(raw: string): LogLine;
  finish(jobStatus: string, t: number): void;
}
