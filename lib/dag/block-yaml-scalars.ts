// The scalar forms of the block subset of YAML (block-yaml.ts): where each one ends, and the
// value the `yaml` library gives it. Plain scalars are typed by the library's own schema tags,
// so `1.10`, `yes` or `~` mean exactly what they mean to the library. Whatever is not surely
// read as the library reads it throws GIVE_UP, and the file goes to the library.
import { isScalar, type DocumentOptions, type Schema } from 'yaml';

/** Thrown (and caught by the reader) for anything outside the subset. */
export const GIVE_UP = Symbol('outside the block subset');

/** A plain scalar may not start with these (or it is something else: a flow collection, an anchor, ...). */
const NOT_PLAIN_START = new Set([...',[]{}#&*!|>\'"%@`?:']);
/** Characters that end a plain item of a `[…]` list here, or make it the library's. */
const FLOW_PLAIN_STOP = new Set([...',[]{}#:\'"']);
export const SPACE = 32;
export const HASH = 35;
export const COLON = 58;
export const DASH = 45;
export const DOUBLE_QUOTE = 34;
export const SINGLE_QUOTE = 39;
export const OPEN_BRACKET = 91;
export const PIPE = 124;
const COMMA = 44;
const CLOSE_BRACKET = 93;

/** A scalar as read: where the library's node range starts and its text ends, and its value. */
export interface Scalar {
  start: number;
  /** End of the value's text (a plain scalar's, without trailing spaces). */
  end: number;
  /** A plain (unquoted) scalar, whose text as written is kept for numbers (load.ts scalarText). */
  plain: boolean;
  value: unknown;
}

export class Scalars {
  /** Keys already judged, each kept once (a large file repeats the same few keys in every step). */
  private readonly knownKeys = new Map<string, string>();

  constructor(
    private readonly text: string,
    private readonly schema: Schema,
    private readonly options: DocumentOptions,
  ) {}

  /**
   * `|` or `|-`: the lines below, more indented than the key (`col`), taken as they are written
   * less that indentation, ending in one line break (`|`) or none (`|-`). Blank lines before the
   * text or with more spaces than it is indented, an explicit indentation or `|+`, folding (`>`),
   * and a last line without a line break are the library's. `stop`: where the next line starts.
   */
  literal(p: number, end: number, col: number): Scalar & { stop: number } {
    const { text } = this;
    let h = p + 1;
    const strip = text.charCodeAt(h) === DASH;
    if (strip) h++;
    const q = skipSpaces(text, h, end);
    if (q < end && !(text.charCodeAt(q) === HASH && q > h)) throw GIVE_UP;
    // Read from the text itself: here a line starting with `#` is text, and blank lines count.
    const lines: string[] = [];
    let indent = -1;
    let blank = 0;
    let stop = text.length;
    for (let s = end + 1; s < text.length; ) {
      let e = text.indexOf('\n', s);
      if (e < 0) e = text.length;
      const spaces = skipSpaces(text, s, e) - s;
      if (s + spaces === e) {
        if (indent < 0 || spaces > indent) throw GIVE_UP;
        blank++;
      } else {
        if (indent < 0) {
          if (spaces <= col) throw GIVE_UP;
          indent = spaces;
        }
        if (spaces < indent) {
          stop = s;
          break;
        }
        if (e === text.length) throw GIVE_UP;
        for (; blank > 0; blank--) lines.push('');
        lines.push(text.slice(s + indent, e));
      }
      s = e + 1;
    }
    if (indent < 0) throw GIVE_UP;
    return { start: p, end: p, plain: false, value: lines.join('\n') + (strip ? '' : '\n'), stop };
  }

  plain(start: number, end: number): Scalar {
    return { start, end, plain: true, value: this.plainValue(this.text.slice(start, end)) };
  }

  /** A quoted scalar without escapes or line breaks; its node ends after the closing quote. */
  quoted(p: number, end: number, quote: number): Scalar {
    const { text } = this;
    let close = p + 1;
    let value: string;
    if (quote === DOUBLE_QUOTE) {
      close = text.indexOf('"', close);
      if (close < 0 || close >= end) throw GIVE_UP;
      value = text.slice(p + 1, close);
      if (value.includes('\\')) throw GIVE_UP;
    } else {
      for (;;) {
        close = text.indexOf("'", close);
        if (close < 0 || close >= end) throw GIVE_UP;
        if (text.charCodeAt(close + 1) !== SINGLE_QUOTE) break;
        close += 2;
      }
      value = text.slice(p + 1, close).replaceAll("''", "'");
    }
    return { start: p, end: close + 1, plain: false, value };
  }

  /**
   * `[a, "b c", 1]` on one line: plain items without flow indicators, `:` or `#`, and quoted
   * ones. Empty items, a trailing comma, nested collections and pairs are the library's.
   */
  flowSeq(p: number, end: number): { items: Scalar[]; close: number } {
    const { text } = this;
    const items: Scalar[] = [];
    let q = skipSpaces(text, p + 1, end);
    if (text.charCodeAt(q) !== CLOSE_BRACKET) {
      for (;;) {
        if (q >= end) throw GIVE_UP;
        const ch = text.charCodeAt(q);
        let item: Scalar;
        let after: number;
        if (ch === DOUBLE_QUOTE || ch === SINGLE_QUOTE) {
          item = this.quoted(q, end, ch);
          after = item.end;
        } else {
          checkPlainStart(text, q);
          after = q;
          while (after < end && !FLOW_PLAIN_STOP.has(text[after]!)) after++;
          const c = text[after];
          if (c !== ',' && c !== ']') throw GIVE_UP;
          item = this.plain(q, trimEnd(text, q, after));
        }
        items.push(item);
        q = skipSpaces(text, after, end);
        const c = text.charCodeAt(q);
        if (c === CLOSE_BRACKET) break;
        if (c !== COMMA) throw GIVE_UP;
        q = skipSpaces(text, q + 1, end);
        if (text.charCodeAt(q) === CLOSE_BRACKET || text.charCodeAt(q) === COMMA) throw GIVE_UP;
      }
    }
    return { items, close: q + 1 };
  }

  /**
   * Where a plain scalar starting at `p` stops: at a `: ` or a final `:`, at a ` #` comment, or
   * at the end of the line. Gives up on what cannot start a plain scalar here.
   */
  plainStop(p: number, end: number): number {
    const { text } = this;
    checkPlainStart(text, p);
    for (let i = p + 1; i < end; i++) {
      const ch = text.charCodeAt(i);
      if (ch === COLON && (i + 1 === end || text.charCodeAt(i + 1) === SPACE)) return i;
      if (ch === HASH && text.charCodeAt(i - 1) === SPACE) return i;
    }
    return end;
  }

  /** A key must be a string to the library (`1:`, `true:`, `<<:` are not) and an ordinary property. */
  plainKey(source: string): string {
    const known = this.knownKeys.get(source);
    if (known !== undefined) return known;
    if (source === '__proto__' || this.defaultTag(source, true) !== undefined) throw GIVE_UP;
    this.knownKeys.set(source, source);
    return source;
  }

  /** A plain value typed as the library types it: the first default tag of its schema that matches. */
  plainValue(source: string): unknown {
    const tag = this.defaultTag(source, false);
    if (tag === undefined) return source;
    let failed = false;
    const resolved = tag.resolve(source, () => (failed = true), this.options);
    if (failed) throw GIVE_UP;
    return isScalar(resolved) ? resolved.value : resolved;
  }

  private defaultTag(source: string, atKey: boolean) {
    return this.schema.tags.find((tag) => (tag.default === true || (atKey && tag.default === 'key')) && tag.test?.test(source)) as
      | { resolve: (value: string, onError: (message: string) => void, options: DocumentOptions) => unknown }
      | undefined;
  }
}

/** Gives up on what cannot start a plain scalar here. */
export function checkPlainStart(text: string, p: number): void {
  const first = text[p]!;
  if (NOT_PLAIN_START.has(first)) throw GIVE_UP;
  if (first === '-' && !/[0-9A-Za-z.]/.test(text[p + 1] ?? '')) throw GIVE_UP;
}

export function skipSpaces(text: string, from: number, end: number): number {
  let q = from;
  while (q < end && text.charCodeAt(q) === SPACE) q++;
  return q;
}

export function trimEnd(text: string, from: number, to: number): number {
  let e = to;
  while (e > from && text.charCodeAt(e - 1) === SPACE) e--;
  return e;
}
