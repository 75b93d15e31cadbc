import type { Expr } from './expr/ast.ts';
import { splitTemplate } from './expr/template.ts';

/** One `${{ }}` of a run script: evaluated by the worker into the environment variable `variable`. */
export interface RunExpression {
  variable: string;
  /** The expression text (between `${{` and `}}`). */
  source: string;
  expr: Expr;
  /** Offset of the expression text in the original script, for diagnostics. */
  exprOffset: number;
}

export interface RewrittenRun {
  /** The script with each `${{ }}` replaced by a reference to its variable. */
  script: string;
  expressions: RunExpression[];
  /** Places where a value cannot reach the shell as data; offsets in the original script. */
  problems: Array<{ offset: number; message: string }>;
}

/** Prefix of the variables that carry `${{ }}` values into run scripts. */
export const RUN_EXPRESSION_PREFIX = 'PUSHCI_EXPR_';

type State = 'top' | 'subst' | 'double' | 'single' | 'ansi' | 'backtick' | 'comment';

interface Heredoc {
  delimiter: string;
  quoted: boolean;
  stripTabs: boolean;
}

/**
 * Makes `${{ }}` in a shell script safe: instead of splicing the value into the code (GitHub's way, and
 * how branch names and commit messages inject commands), each expression becomes `${PUSHCI_EXPR_n}` and
 * the worker puts the value into that variable. The shell only ever expands it as data: in double
 * quotes it stays one word, unquoted it is split into words (so `npm test -- ${{ matrix.args }}` gets
 * several arguments) but never run. Inside single quotes the quote is closed around a double-quoted
 * reference, so `echo '${{ x }}'` prints the value too. A quoted heredoc (`<<'EOF'`) expands nothing,
 * so an expression there is reported.
 */
export function rewriteRunScript(run: string): RewrittenRun {
  const segments = splitTemplate(run);
  const expressions: RunExpression[] = [];
  const problems: RewrittenRun['problems'] = [];
  const bySource = new Map<string, string>();
  let script = '';

  const stack: State[] = ['top'];
  const top = () => stack.at(-1)!;
  let pending: Heredoc[] = [];
  let heredoc: Heredoc | null = null;
  let line = '';
  let prev = '\n';

  const scan = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      const next = text[i + 1];
      if (heredoc) {
        if (ch === '\n') {
          const body = heredoc.stripTabs ? line.replace(/^\t+/, '') : line;
          if (body === heredoc.delimiter) heredoc = pending.shift() ?? null;
          line = '';
        } else line += ch;
        prev = ch;
        continue;
      }
      const s = top();
      if (ch === '\n') {
        if (s === 'comment') stack.pop();
        if (pending.length > 0 && (top() === 'top' || top() === 'subst')) {
          heredoc = pending.shift()!;
          line = '';
        }
        prev = ch;
        continue;
      }
      switch (s) {
        case 'comment':
          break;
        case 'single':
          if (ch === "'") stack.pop();
          break;
        case 'ansi':
          if (ch === '\\') i++;
          else if (ch === "'") stack.pop();
          break;
        case 'double':
          if (ch === '\\') i++;
          else if (ch === '"') stack.pop();
          else if (ch === '$' && next === '(') (stack.push('subst'), i++);
          else if (ch === '`') stack.push('backtick');
          break;
        default: // top, subst, backtick: code
          if (ch === '\\') i++;
          else if (ch === "'") stack.push('single');
          else if (ch === '$' && next === "'") (stack.push('ansi'), i++);
          else if (ch === '"') stack.push('double');
          else if (ch === '$' && next === '(') (stack.push('subst'), i++);
          else if (ch === '(' && s !== 'backtick') stack.push('subst');
          else if (ch === ')' && s === 'subst') stack.pop();
          else if (ch === '`') s === 'backtick' ? stack.pop() : stack.push('backtick');
          else if (ch === '#' && /[\s;&|(]/.test(prev)) stack.push('comment');
          else if (ch === '<' && next === '<' && text[i + 2] !== '<') {
            const m = /^<<(-?)[ \t]*(?:'([^'\n]+)'|"([^"\n]+)"|\\?([A-Za-z0-9_.-]+))/.exec(text.slice(i));
            if (m) {
              const delimiter = m[2] ?? m[3] ?? m[4]!;
              pending.push({
                delimiter,
                quoted: m[4] === undefined || m[0].includes('\\'),
                stripTabs: m[1] === '-',
              });
              i += m[0].length - 1;
            } else i++;
          }
      }
      prev = text[i]!;
    }
  };

  for (const seg of segments) {
    if (seg.kind === 'text') {
      scan(seg.text);
      script += seg.text;
      continue;
    }
    let variable = bySource.get(seg.source.trim());
    if (!variable) {
      variable = `${RUN_EXPRESSION_PREFIX}${expressions.length + 1}`;
      bySource.set(seg.source.trim(), variable);
      expressions.push({ variable, source: seg.source, expr: seg.expr, exprOffset: seg.exprOffset });
    }
    const ref = `\${${variable}}`;
    // Assigned inside scan(), which TypeScript's narrowing does not follow.
    const inHeredoc = heredoc as Heredoc | null;
    if (inHeredoc) {
      if (inHeredoc.quoted)
        problems.push({
          offset: seg.offset,
          message: `\${{ }} inside a quoted heredoc (<<'${inHeredoc.delimiter}') is never expanded; use an unquoted delimiter (<<${inHeredoc.delimiter}) or pass the value through env:`,
        });
      script += ref;
      line += '\0';
    } else {
      const s = top();
      script += s === 'single' ? `'"${ref}"'` : s === 'ansi' ? `'"${ref}"$'` : ref;
    }
    prev = 'x';
  }
  return { script, expressions, problems };
}
