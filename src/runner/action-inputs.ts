import type { ActionDef } from '../pipelines/action-def.ts';

/** The variable an action reads an input from: GitHub's spelling (upper case, spaces as `_`). */
export function actionInputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/**
 * An action's inputs for one step: `with:` values (already rendered), else the input's default
 * (rendered by `render`), matched without regard to case as GitHub does. Reports required inputs with
 * neither, and `with:` keys the action does not declare (GitHub warns and passes them on).
 */
export function inputValues(
  def: Pick<ActionDef, 'inputs'>,
  given: Readonly<Record<string, string>>,
  render: (template: string) => string,
): { values: Record<string, string>; missing: string[]; unexpected: string[] } {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  const byLower = new Map(Object.entries(given).map(([k, v]) => [k.toLowerCase(), [k, v] as const]));
  const declared = new Set<string>();
  for (const [name, input] of Object.entries(def.inputs)) {
    declared.add(name.toLowerCase());
    const g = byLower.get(name.toLowerCase());
    if (g) values[name] = g[1];
    else if (input.default !== null) values[name] = render(input.default);
    else if (input.required) missing.push(name);
    else values[name] = '';
  }
  const unexpected: string[] = [];
  for (const [lower, [k, v]] of byLower)
    if (!declared.has(lower)) {
      unexpected.push(k);
      values[k] = v;
    }
  return { values, missing, unexpected };
}
