import { isMap, isPair, isScalar, type Document, type LineCounter, type Node } from 'yaml';

/** Finds line:col for paths in a parsed YAML document, so every diagnostic can point at its source. */
export class Positions {
  private readonly doc: Document;
  private readonly lines: LineCounter;
  private readonly text: string | null;

  /** `text`, the parsed source, lets positions inside `|` block scalars point at their exact line. */
  constructor(doc: Document, lines: LineCounter, text?: string) {
    this.doc = doc;
    this.lines = lines;
    this.text = text ?? null;
  }

  at(offset: number): { line: number; col: number } {
    const p = this.lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  /** The node at `path`, or the nearest ancestor that exists (a missing key points at its parent map). */
  node(path: readonly PropertyKey[]): Node | null {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) return node;
    }
    return (this.doc.contents as Node | null) ?? null;
  }

  /** Start and end of the node exactly at `path`, or null when there is none. */
  span(
    path: readonly PropertyKey[],
  ): { start: { line: number; col: number }; end: { line: number; col: number } } | null {
    const node = this.doc.getIn(path as unknown[], true) as Node | undefined;
    if (!node || typeof node !== 'object' || !('range' in node) || !node.range) return null;
    return { start: this.at(node.range[0]), end: this.at(node.range[1]) };
  }

  /** Position of the value at `path`. */
  of(path: readonly PropertyKey[]): { line: number; col: number } {
    const node = this.node(path);
    return this.at(node?.range?.[0] ?? 0);
  }

  /** Position of the key `key` inside the map at `path` (for unknown or duplicate keys). */
  ofKey(path: readonly PropertyKey[], key: string): { line: number; col: number } {
    const map = this.doc.getIn(path as unknown[], true);
    if (isMap(map)) {
      for (const pair of map.items) {
        if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) {
          return this.at(pair.key.range[0]);
        }
      }
    }
    return this.of(path);
  }

  /** Position of a character inside a scalar string, when the scalar is plain or simply quoted. */
  inString(path: readonly PropertyKey[], offset: number): { line: number; col: number } {
    const node = this.doc.getIn(path as unknown[], true);
    if (isScalar(node) && node.range) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      const single = node.type === 'PLAIN' || quoted;
      if (single) return this.at(node.range[0] + (quoted ? 1 : 0) + offset);
      if (node.type === 'BLOCK_LITERAL' && this.text !== null && typeof node.value === 'string')
        return this.inBlock(node.range[0], node.value, offset);
      return this.at(node.range[0]);
    }
    return this.of(path);
  }

  /** A `|` scalar keeps its lines: line k of the value is line k after the header, behind the indentation. */
  private inBlock(header: number, value: string, offset: number): { line: number; col: number } {
    const text = this.text!;
    const before = value.slice(0, offset).split('\n');
    const colInLine = before.at(-1)!.length;
    let at = text.indexOf('\n', header);
    if (at < 0) return this.at(header);
    at++;
    const indent = /^[ ]*/.exec(text.slice(at))![0].length;
    for (let k = 1; k < before.length; k++) {
      const nl = text.indexOf('\n', at);
      if (nl < 0) return this.at(header);
      at = nl + 1;
    }
    return this.at(at + indent + colInLine);
  }
}
