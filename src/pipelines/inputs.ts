import type { InputDef } from './pipeline.ts';

/** What is wrong with a value for an input of this type, or null. Values travel as strings. */
export function inputProblem(def: Pick<InputDef, 'type' | 'options'>, value: string): string | null {
  switch (def.type) {
    case 'boolean':
      return value === 'true' || value === 'false' ? null : 'must be true or false';
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? null : 'must be a number';
    case 'choice':
      return def.options?.includes(value) ? null : `must be one of: ${(def.options ?? []).join(', ')}`;
    case 'string':
      return value.length <= 65_536 ? null : 'is longer than 65536 characters';
  }
}

/**
 * The `inputs` context of a manual build: each value as its input's type, as on GitHub (a boolean input
 * is `true` or `false`, not the text, so `${{ !inputs.dry-run }}` and `if: inputs.deploy` mean what they
 * say; a number input is a number). `github.event.inputs` and the `INPUT_*` variables keep the text.
 * A value whose input the pipeline no longer declares stays text.
 */
export function inputsContext(
  defs: readonly Pick<InputDef, 'name' | 'type'>[],
  values: Readonly<Record<string, string>>,
): Record<string, string | boolean | number> {
  const out: Record<string, string | boolean | number> = {};
  for (const [name, value] of Object.entries(values)) {
    const type = defs.find((d) => d.name === name)?.type;
    if (type === 'boolean' && (value === 'true' || value === 'false')) out[name] = value === 'true';
    else if (type === 'number' && value.trim() !== '' && Number.isFinite(Number(value)))
      out[name] = Number(value);
    else out[name] = value;
  }
  return out;
}

/** The variable a step reads an input from: `INPUT_` and the name upper-cased, `-` as `_`. */
export function inputVariable(name: string): string {
  return `INPUT_${name.toUpperCase().replaceAll('-', '_')}`;
}

/**
 * A manual build's inputs, checked against the pipeline's `workflow_dispatch.inputs`: every problem at
 * once (unknown names, missing required ones, values of the wrong type), else the values as strings
 * with the defaults filled in. JSON booleans and numbers are taken for boolean and number inputs.
 */
export function resolveInputs(
  defs: readonly InputDef[],
  given: unknown,
): { inputs: Record<string, string>; problems: string[] } {
  const problems: string[] = [];
  const inputs: Record<string, string> = {};
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given)))
    return { inputs, problems: ['"inputs" must be an object of name: value'] };
  const values = (given ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(values))
    if (!defs.some((d) => d.name === name))
      problems.push(
        defs.length === 0
          ? `input "${name}": this pipeline takes no inputs (on.workflow_dispatch.inputs)`
          : `input "${name}" is not one of: ${defs.map((d) => d.name).join(', ')}`,
      );
  for (const d of defs) {
    const raw = values[d.name];
    if (raw === undefined || raw === null) {
      if (d.default !== null) inputs[d.name] = d.default;
      else if (d.required) problems.push(`input "${d.name}" is required`);
      continue;
    }
    const ok =
      typeof raw === 'string' ||
      (typeof raw === 'boolean' && d.type === 'boolean') ||
      (typeof raw === 'number' && (d.type === 'number' || d.type === 'string'));
    if (!ok) {
      problems.push(`input "${d.name}" must be a ${d.type === 'choice' ? 'string' : d.type}`);
      continue;
    }
    const value = String(raw);
    const problem = inputProblem(d, value);
    if (problem) problems.push(`input "${d.name}" ${problem}`);
    else inputs[d.name] = value;
  }
  return { inputs, problems };
}
