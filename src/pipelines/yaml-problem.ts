import type { YAMLError } from 'yaml';

/** A YAML syntax error in plain words: what is wrong and what would be right, and where it starts. */
export interface YamlProblem {
  message: string;
  /** Offset in the text the problem is reported at. */
  offset: number;
}

const quote = (s: string) => JSON.stringify(s);

/** The key a line starts with (`  branches: [main` → `branches`), or null. */
function keyOf(line: string): string | null {
  const m = /^\s*(?:-\s+)?([^\s:#'"][^:#]*?)\s*:(?:\s|$)/.exec(line);
  return m ? m[1]!.slice(0, 60) : null;
}

/** How far the nearest line above `lineStart` with a key is indented (its "- " counted), or null. */
function previousIndent(text: string, lineStart: number): number | null {
  const lines = text.slice(0, lineStart).split('\n').reverse();
  for (const l of lines) {
    if (!keyOf(l)) continue;
    const m = /^(\s*)(-\s+)?/.exec(l)!;
    return m[1]!.length + (m[2]?.length ?? 0);
  }
  return null;
}

/** Where the last bracket still open before `end` was opened (a `[` or `{` never closed). */
function unclosedBracket(text: string, end: number, open: '[' | '{'): number | null {
  const close = open === '[' ? ']' : '}';
  let depth = 0;
  for (let i = end - 1; i >= 0; i--) {
    const c = text[i]!;
    if (c === close) depth++;
    else if (c === open) {
      if (depth === 0) return i;
      depth--;
    }
  }
  return null;
}

/**
 * The first error of a YAML file as a person would say it. The `yaml` parser's own words ("Implicit map
 * keys need to be followed by map values") name its grammar, not the mistake: each of its error codes
 * gets a sentence saying what is wrong on the line and what to write instead.
 */
export function yamlProblem(error: Pick<YAMLError, 'code' | 'message' | 'pos'>, text: string): YamlProblem {
  const offset = error.pos[0];
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset);
  const line = text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
  const key = keyOf(line);
  const at = (message: string, where = offset): YamlProblem => ({ message, offset: where });
  const words = error.message;
  switch (error.code) {
    case 'BAD_INDENT': {
      if (/^Flow (sequence|map)/.test(words)) {
        const list = words.startsWith('Flow sequence');
        const opened = unclosedBracket(text, offset, list ? '[' : '{');
        return at(
          list
            ? 'this list opened with "[" is not closed: end it with "]" on the same line, or write one "- item" per line'
            : 'this map opened with "{" is not closed: end it with "}" on the same line, or write one "key: value" per line',
          opened ?? offset,
        );
      }
      if (/same column/.test(words))
        return at(
          `${key ? `key ${quote(key)} is` : 'this line is'} indented differently from the keys above it in the same map: indent it by the same number of spaces (or, if it belongs inside the key above, further)`,
          lineStart + line.length - line.trimStart().length,
        );
      return at('this line is not indented where YAML expects it: line it up with the lines it belongs with');
    }
    case 'TAB_AS_INDENT':
      return at('this line is indented with a tab: YAML indents with spaces only');
    case 'DUPLICATE_KEY':
      return at(
        `${key ? `key ${quote(key)}` : 'this key'} appears twice in the same map: keep one (merge what the two hold)`,
      );
    case 'MISSING_CHAR':
      if (/closing "/.test(words))
        return at(
          'a text opened with " is not closed: add the closing " (or write the text in single quotes or as a | block)',
        );
      if (/closing '/.test(words))
        return at(
          "a text opened with ' is not closed: add the closing ' (write '' for a ' inside it, or use a | block)",
        );
      if (/Comments must be separated/.test(words))
        return at(
          'a "#" right after other text: write " #" (a space first) to start a comment, or quote the value that contains "#"',
        );
      if (key) {
        // A "key: value" line the parser could not place: its indentation fits no map above it.
        const indent = line.length - line.trimStart().length;
        const above = previousIndent(text, lineStart);
        return at(
          `key ${quote(key)} is indented by ${indent} space${indent === 1 ? '' : 's'}${above === null ? '' : `, the key above it by ${above}`}: keys of one map line up; indent it as the keys of the map it belongs to`,
          lineStart + indent,
        );
      }
      return at(
        'this line is not "key: value" nor "- item": add the ":" after a key, or indent the line further if it continues the value above',
      );
    case 'MULTILINE_IMPLICIT_KEY':
      return at(
        `${quote(line.trim().slice(0, 60))} is neither "key: value" nor "- item": add the ":" after the key, or indent the line under the key whose value it continues`,
      );
    case 'BLOCK_AS_IMPLICIT_KEY':
      if (/compact mappings/.test(words))
        return at(
          `the value${key ? ` of ${quote(key)}` : ''} contains ": ", which YAML reads as another key: put the value in quotes, or write it as a | block`,
        );
      return at(
        'this "- item" line is indented less than the list it belongs to: line it up with the other items of that list',
      );
    case 'BAD_SCALAR_START': {
      const c = words.at(-1) ?? '';
      return at(
        `a value cannot start with ${quote(c)} unless it is quoted: write it in quotes (${c === "'" ? '"…"' : `'${c}…'`})`,
      );
    }
    case 'UNEXPECTED_TOKEN':
      return at(
        'more text follows a complete value on this line: quote the whole value, or put the rest on a line of its own',
      );
    case 'BAD_DQ_ESCAPE':
      return at(
        'a "\\" in a double-quoted text starts an escape YAML does not know: write "\\\\", or use single quotes, where "\\" is just a character',
      );
    case 'MULTIPLE_DOCS':
      return at(
        'a "---" line starts a second YAML document: a pipeline file holds one pipeline; remove the line, or move what follows to a file of its own',
      );
    case 'KEY_OVER_1024_CHARS':
      return at('a key is longer than 1024 characters: shorten it, or make the text a value instead');
    case 'BAD_ALIAS':
    case 'ALIAS_PROPS':
      return at('an alias ("*name") is written wrongly: it names an "&name" anchor and nothing else');
    case 'MULTIPLE_ANCHORS':
    case 'MULTIPLE_TAGS':
    case 'BAD_PROP_ORDER':
      return at(
        'a value has two "&anchors" or two "!tags", or the tag after the anchor: give it at most one of each',
      );
    case 'TAG_RESOLVE_FAILED':
    case 'BAD_COLLECTION_TYPE':
      return at('a "!tag" YAML does not know: pipeline files use plain values; remove the tag');
    case 'BLOCK_IN_FLOW':
      return at(
        'a "- item" or "key: value" line inside [ ] or { }: inside brackets, separate the entries with commas on one line',
      );
    case 'BAD_DIRECTIVE':
      return at('a "%" line YAML does not know: remove it (a pipeline file needs no directives)');
    case 'NON_STRING_KEY':
      return at('a key is a list or a map: keys are plain names');
    default:
      return at(
        'this line is not valid YAML: check its indentation, quotes and brackets against the lines above it',
      );
  }
}
