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
