/** One problem in a pipeline file, reported the way compilers do. */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  message: string;
}

/** `file:line:col: message` */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}
