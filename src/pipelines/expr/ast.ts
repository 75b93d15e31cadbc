/** The parsed form of an expression. Every node carries the offset of its first character. */
export type Expr =
  | { kind: 'literal'; value: null | boolean | number | string; offset: number }
  /** The root of a property chain: a context name such as `github`. */
  | { kind: 'context'; name: string; offset: number }
  | { kind: 'property'; object: Expr; name: string; offset: number }
  | { kind: 'index'; object: Expr; index: Expr; offset: number }
  /** `a.*` or `a[*]`: every value of an object or array, as an array that further property access maps over. */
  | { kind: 'star'; object: Expr; offset: number }
  | { kind: 'call'; name: string; args: Expr[]; offset: number }
  | { kind: 'not'; operand: Expr; offset: number }
  | {
      kind: 'binary';
      op: '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';
      left: Expr;
      right: Expr;
      offset: number;
    };
