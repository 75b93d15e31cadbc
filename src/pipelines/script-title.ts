/** Longest title a script gives its step, in characters, the ellipsis included. */
const MAX = 80;

/**
 * The name of a step without `name:`: its script's first line, cut with an ellipsis when longer than
 * 80 characters (a title that stops mid-`${{` reads as a bug).
 */
export function scriptTitle(run: string): string {
  const first = run.split('\n')[0]!;
  return first.length > MAX ? `${first.slice(0, MAX - 1).trimEnd()}…` : first;
}
