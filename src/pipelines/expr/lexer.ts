import { ExpressionSyntaxError } from './expression-syntax-error.ts';

export type TokenKind =
  | 'number'
  | 'string'
  | 'true'
  | 'false'
  | 'null'
  | 'ident'
  | '('
  | ')'
  | '['
  | ']'
  | '.'
  | ','
  | '*'
  | '!'
  | '<'
  | '<='
  | '>'
  | '>='
  | '=='
  | '!='
  | '&&'
  | '||'
  | 'end';

export interface Token {
  kind: TokenKind;
  /** Offset in the expression text. */
  offset: number;
  /** The source text of the token. */
  text: string;
  /** Literal value of number and string tokens. */
  value?: number | string;
}

const PUNCT = ['<=', '>=', '==', '!=', '&&', '||', '(', ')', '[', ']', '.', ',', '*', '!', '<', '>'] as const;

/** JSON number, or 0x/0o hex/octal integers (GitHub accepts both), or the NaN/Infinity keywords. */
const NUMBER = /^(?:0x[0-9a-f]+|0o[0-7]+|-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)/i;
const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*/;

/** Splits an expression (the text between `${{` and `}}`) into tokens with their offsets. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const rest = text.slice(i);
    if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length)
          throw new ExpressionSyntaxError("unterminated string (a closing ' is missing)", i);
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      out.push({ kind: 'string', offset: i, text: text.slice(i, j + 1), value });
      i = j + 1;
      continue;
    }
    if (ch === '"')
      throw new ExpressionSyntaxError(`strings are written in single quotes: '...' (not "...")`, i);
    const prev = out.at(-1)?.kind;
    // A leading "-" belongs to a number only where a value may start (not after a value: `a -1` is no operator here anyway).
    const num = NUMBER.exec(rest);
    if (num && (/[\d.]/.test(ch) || (ch === '-' && prev !== 'number' && prev !== 'ident'))) {
      const t = num[0];
      if (t === '.' || t === '-') throw new ExpressionSyntaxError(`unexpected "${t}"`, i);
      const lower = t.toLowerCase();
      const value = lower.startsWith('0x')
        ? parseInt(t.slice(2), 16)
        : lower.startsWith('0o')
          ? parseInt(t.slice(2), 8)
          : Number(t);
      const after = text[i + t.length];
      if (after !== undefined && /[A-Za-z_]/.test(after))
        throw new ExpressionSyntaxError(`"${t}${after}" is not a number`, i);
      out.push({ kind: 'number', offset: i, text: t, value });
      i += t.length;
      continue;
    }
    const id = IDENT.exec(rest);
    if (id) {
      const t = id[0];
      if (t === 'true' || t === 'false' || t === 'null') out.push({ kind: t, offset: i, text: t });
      else if (t === 'NaN' || t === 'Infinity')
        out.push({ kind: 'number', offset: i, text: t, value: t === 'NaN' ? NaN : Infinity });
      else out.push({ kind: 'ident', offset: i, text: t });
      i += t.length;
      continue;
    }
    const p = PUNCT.find((s) => rest.startsWith(s));
    if (p) {
      out.push({ kind: p, offset: i, text: p });
      i += p.length;
      continue;
    }
    if (ch === '=' || ch === '&' || ch === '|')
      throw new ExpressionSyntaxError(`unexpected "${ch}" (did you mean "${ch}${ch}"?)`, i);
    throw new ExpressionSyntaxError(`unexpected character "${ch}"`, i);
  }
  out.push({ kind: 'end', offset: text.length, text: '' });
  return out;
}
