import type { z } from 'zod';

/**
 * The keys the schema allows in the map at `path` of a parsed file, in the schema's order: the keys of
 * every object the path can lead to (each branch of a union). Empty where no object is allowed, or
 * where the keys are free (a record's). Derived from the schema so the two cannot drift apart.
 */
export function knownKeys(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  const keys = objectsAt(schema, path).flatMap((o) => Object.keys(o._zod.def.shape));
  return [...new Set(keys)];
}

/** The object schemas a value at `path` may have to satisfy. */
function objectsAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): z.core.$ZodObject[] {
  const s = schema as z.core.$ZodTypes;
  const def = s._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'catch':
    case 'readonly':
      return objectsAt(def.innerType, path);
    case 'pipe':
      return objectsAt(def.in, path);
    case 'lazy':
      return objectsAt(def.getter(), path);
    case 'union':
      return def.options.flatMap((o) => objectsAt(o, path));
  }
  if (path.length === 0) return def.type === 'object' ? [s as z.core.$ZodObject] : [];
  const [key, ...rest] = path;
  switch (def.type) {
    case 'object': {
      const child = def.shape[String(key)];
      return child ? objectsAt(child, rest) : [];
    }
    case 'record':
      return typeof key === 'number' ? [] : objectsAt(def.valueType, rest);
    case 'array':
      return typeof key === 'number' ? objectsAt(def.element, rest) : [];
    default:
      return [];
  }
}
