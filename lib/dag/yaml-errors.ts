// The YAML library's syntax errors, said as what to do about them and placed where the mistake
// is. Its own messages are written for programmers ("Nested mappings are not allowed in compact
// mappings", "please use YAML.parseAllDocuments()") and some point at the end of the damage
// rather than its start; the common ones are translated here, the rest keep the library's words.
import { isAlias, isMap, isScalar, isSeq, visit, type Document, type YAMLError } from 'yaml';

export interface YamlProblem {
  message: string;
  /** Offset in the text where the problem is best shown. */
  offset: number;
}

/** One syntax error of the document, or undefined when it repeats one already said (same cause). */
export function explainYamlError(err: YAMLError, text: string): YamlProblem | undefined {
  const at = err.pos[0];
  switch (err.code) {
    case 'BLOCK_AS_IMPLICIT_KEY': {
      // A `key: value` on the line after a value, indented deeper than its siblings, continues
      // that value: the mistake is the indentation, on that line.
      const colon = text.indexOf(': ', at);
      const newline = text.indexOf('\n', at);
      if (newline >= 0 && colon > newline) {
        const next = newline + 1 + /^[ \t]*/.exec(text.slice(newline + 1))![0].length;
        return { offset: next, message: 'this line is indented deeper than the keys above it, so YAML reads it as part of the value before it: line it up with those keys' };
      }
      return { offset: at, message: 'a plain value cannot contain ": " (colon and space): quote the whole value, or write it as a block with "|"' };
    }
    case 'MULTILINE_IMPLICIT_KEY':
      // Said together with the one above for the same text.
      return undefined;
    case 'MULTIPLE_DOCS':
      return { offset: at, message: 'a DAG file holds one YAML document: remove this "---" line, or put the second DAG in a file of its own' };
    case 'TAB_AS_INDENT':
      return { offset: at, message: 'YAML is indented with spaces, not tabs: replace the tab at the start of this line with spaces' };
    case 'DUPLICATE_KEY': {
      const key = /^[^:\n]*/.exec(text.slice(at))![0].trim();
      return { offset: at, message: `"${key}" is given twice in the same mapping: keep one of them` };
    }
    case 'BAD_SCALAR_START': {
      const ch = text[at] ?? '';
      return { offset: at, message: `a plain value cannot start with "${ch}": quote the whole value` };
    }
    case 'MISSING_CHAR': {
      if (/closing "quote/.test(err.message)) return unclosedQuote(text, at, '"');
      if (/closing 'quote/.test(err.message)) return unclosedQuote(text, at, "'");
      if (/without - indicator/.test(err.message)) {
        return { offset: at, message: 'this line does not line up with the ones above it: indent a key like the other keys of its mapping, and start a list item with "- "' };
      }
      if (/flow (sequence|collection|map)|[\]}]/.test(err.message)) return unclosedFlow(err.message, at);
      return { offset: at, message: shortMessage(err.message) };
    }
    case 'BAD_INDENT':
      if (/Flow (sequence|mapping|collection)/i.test(err.message)) return unclosedFlow(err.message, at);
      return { offset: at, message: 'this line does not line up with the ones above it: the keys of one mapping start in the same column (spaces only)' };
    default:
      return { offset: at, message: shortMessage(err.message) };
  }
}

function unclosedQuote(text: string, end: number, quote: string): YamlProblem {
  const open = text.lastIndexOf(quote, Math.max(0, end - 1));
  return {
    offset: open >= 0 ? open : end,
    message: `this ${quote === '"' ? 'double' : 'single'}-quoted value is never closed: add the closing ${quote}, or write a value of several lines as a block with "|"`,
  };
}

function unclosedFlow(message: string, at: number): YamlProblem {
  const bracket = /sequence/i.test(message) ? '[' : '{';
  const close = bracket === '[' ? ']' : '}';
  return { offset: at, message: `a "${bracket}" list is not closed before this line: add the "${close}", or quote the value if the "${bracket}" is text` };
}

/** The library's message without its ` at line N, column M:` and code excerpt (the place says that). */
export function shortMessage(message: string): string {
  const cut = message.search(/ at line \d+, column \d+/);
  const text = (cut >= 0 ? message.slice(0, cut) : (message.split('\n')[0] ?? message)).trim();
  // Advice meant for the library's callers is no use to someone writing a DAG file.
  return text.replace(/;? ?please use [A-Za-z.]+\(\)/, '').trim();
}

/**
 * Aliases whose anchor is not defined (before them): the library notices only when it builds the
 * value, and then without a place (and, under `<<`, as a complaint about merge sources).
 * Also a `<<` whose source is not a mapping.
 */
export function aliasProblems(doc: Document): YamlProblem[] {
  const problems: YamlProblem[] = [];
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        problems.push({
          offset: node.range?.[0] ?? 0,
          message: `"*${node.source}" refers to no anchor: define "&${node.source}" on a value above it (an anchor must come before its aliases)`,
        });
      }
    },
    Pair(_key, pair) {
      if (!isScalar(pair.key) || pair.key.value !== '<<') return;
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const source of sources) {
        const target = isAlias(source) ? source.resolve(doc) : source;
        if (target === undefined || isMap(target)) continue;
        const where = (source as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
        problems.push({ offset: where, message: '"<<" merges a mapping: point it at an anchored mapping ("<<: *name" where "&name" is on a map)' });
      }
    },
  });
  return problems;
}
