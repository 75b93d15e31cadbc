/** An expression that parsed but cannot be evaluated (a bad format string, invalid JSON for fromJSON, …). */
export class ExpressionError extends Error {
  /** Offset in the expression text, when known. */
  readonly offset: number;
  constructor(message: string, offset = 0) {
    super(message);
    this.name = 'ExpressionError';
    this.offset = offset;
  }
}
