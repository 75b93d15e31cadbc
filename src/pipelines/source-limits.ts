/** Files larger than this are refused before parsing. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** YAML aliases expanded at most this many times (stops "billion laughs"). */
export const MAX_ALIASES = 100;
/** Deeper nesting than any real pipeline needs; refused before it can exhaust the stack. */
export const MAX_DEPTH = 64;

/**
 * Offset of the first flow bracket nested deeper than `max`, or null. Checked before parsing, because
 * the YAML parser recurses per level and a few thousand brackets would exhaust its stack.
 */
export function flowNestingBeyond(text: string, max: number): number | null {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if (ch === '"' || ch === "'") {
      for (i++; i < text.length && text[i] !== ch; i++) if (ch === '"' && text[i] === '\\') i++;
    } else if (ch === '[' || ch === '{') {
      if (++depth > max) return i;
    } else if ((ch === ']' || ch === '}') && depth > 0) depth--;
  }
  return null;
}

/** How deep a parsed value nests (counting stops past MAX_DEPTH). */
export function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return depth;
  let max = depth;
  for (const v of Object.values(value)) max = Math.max(max, depthOf(v, depth + 1));
  return max;
}

/** Offset of the first byte that makes `bytes` invalid UTF-8. */
export function firstInvalidUtf8(bytes: Buffer): number {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let lo = 0;
  let hi = bytes.length;
  // Binary search for the shortest invalid prefix, allowing for a multi-byte sequence cut at the end.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      dec.decode(bytes.subarray(0, mid), { stream: true });
      dec.decode();
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  return Math.max(0, lo - 1);
}
