// A reader for the plain block subset of YAML that DAG files are mostly written in: block
// mappings and sequences, one-line plain and quoted scalars and `[…]` lists of them, `|`
// blocks, comments and blank lines. For such a text it gives the value the `yaml` library
// gives, and the same offsets for every key and value. Anything outside the subset (anchors,
// aliases, tags, flow mappings, folded or multi-line scalars, escapes, tabs, several documents,
// a duplicate key, whatever the library would call an error) makes it give up (undefined), and
// the caller parses with the library.
// Why: the library builds a full syntax tree, then a document model, then the value (a
// 100 000-step file: most of a `validate` of several seconds and ~450 MB); one pass over the
// lines does it in a fraction of that. The scalar forms: block-yaml-scalars.ts.
import { LineCounter, parseDocument, type DocumentOptions, type Schema, type SchemaOptions } from 'yaml';
import { COLON, DASH, DOUBLE_QUOTE, GIVE_UP, HASH, OPEN_BRACKET, PIPE, SINGLE_QUOTE, SPACE, Scalars, skipSpaces, trimEnd, type Scalar } from './block-yaml-scalars.js';

/**
 * A mapping or list. Its entries are rows `first` to `first + count - 1` of the document's
 * tables (BlockTables), not arrays of its own: 100 000 small step maps as objects and arrays
 * were most of the memory of a large file, and the time its garbage collection took.
 */
export interface BlockCollection {
  kind: 'map' | 'seq';
  /** Where the library's node range starts: the first key, the first `-`, or the `[`. */
  start: number;
  first: number;
  count: number;
}

/** A node: a collection, or a scalar's row in the scalar tables. */
export type BlockValue = BlockCollection | number;

/** Every entry and scalar of a document, in rows. */
export class BlockTables {
  readonly keys: string[] = [];
  readonly keyStarts: number[] = [];
  readonly mapValues: BlockValue[] = [];
  readonly items: BlockValue[] = [];
  readonly scalarStarts: number[] = [];
  readonly scalarEnds: number[] = [];
  readonly scalarPlain: boolean[] = [];

  scalar(read: Scalar): number {
    this.scalarStarts.push(read.start);
    this.scalarEnds.push(read.end);
    this.scalarPlain.push(read.plain);
    return this.scalarStarts.length - 1;
  }

  startOf(node: BlockValue): number {
    return typeof node === 'number' ? this.scalarStarts[node]! : node.start;
  }
}

export interface BlockYaml {
  /** The value, as the library's `toJS()` gives it. */
  value: unknown;
  root: BlockCollection;
  tables: BlockTables;
  lineCounter: LineCounter;
}

/** Offsets where a key path leads: its value, its key, the deepest node reached; a plain scalar's text. */
export interface BlockSpot {
  node?: number;
  key?: number;
  parent?: number;
  plain?: readonly [start: number, end: number];
}

/** Characters whose handling is left to the library: tabs, CR, control and special line breaks, BOM. */
const LEFT_TO_LIBRARY = /[\t\r\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/;
/** The library rejects an implicit key longer than 1024 characters; well under that, be sure. */
const MAX_KEY = 1000;

let typing: { schema: Schema; options: DocumentOptions & SchemaOptions; given: object } | undefined;

/** The library's value and node places for `text`, or undefined when the text needs the library. */
export function readBlockYaml(text: string, options: DocumentOptions & SchemaOptions): BlockYaml | undefined {
  if (LEFT_TO_LIBRARY.test(text)) return undefined;
  // The schema and options the library composes with for these options, taken from the library.
  if (typing?.given !== options) {
    const doc = parseDocument('', options);
    typing = { schema: doc.schema, options: doc.options, given: options };
  }
  // A schema with compatibility tags warns about some values: the library's business.
  if (typing.schema.compat) return undefined;
  try {
    return new Reader(text, typing.schema, typing.options).document();
  } catch (err) {
    if (err === GIVE_UP) return undefined;
    throw err;
  }
}

/** Where a key path leads in a block document (the same walk as over the library's nodes). */
export function walkBlock(doc: BlockYaml, path: ReadonlyArray<string | number>): BlockSpot {
  const { tables } = doc;
  let node: BlockValue = doc.root;
  let key: number | undefined;
  for (const segment of path) {
    if (typeof node === 'number') return { parent: tables.startOf(node) };
    const first: number = node.first;
    const count: number = node.count;
    if (node.kind === 'map') {
      const name = String(segment);
      let row: number = first;
      while (row < first + count && tables.keys[row] !== name) row++;
      if (row === first + count) return { parent: node.start };
      key = tables.keyStarts[row];
      node = tables.mapValues[row]!;
    } else if (typeof segment === 'number' && Number.isInteger(segment) && segment >= 0 && segment < count) {
      key = undefined;
      node = tables.items[first + segment]!;
    } else {
      return { parent: node.start };
    }
  }
  const start = tables.startOf(node);
  const plain = typeof node === 'number' && tables.scalarPlain[node] ? ([start, tables.scalarEnds[node]!] as const) : undefined;
  return { node: start, key, parent: start, plain };
}

class Reader {
  /** Lines that hold something (not blank, not only a comment): start, indentation, end. */
  private readonly starts: number[] = [];
  private readonly indents: number[] = [];
  private readonly ends: number[] = [];
  /** The next line not yet read. */
  private line = 0;
  /**
   * Entries of the collections being read, nested ones above their parents': each collection
   * moves its own off the top into the tables when it ends, so that its rows are consecutive.
   */
  private readonly pendingKeys: string[] = [];
  private readonly pendingKeyStarts: number[] = [];
  private readonly pendingNodes: BlockValue[] = [];
  private readonly tables = new BlockTables();
  private readonly scalars: Scalars;
  readonly lineCounter = new LineCounter();

  constructor(
    private readonly text: string,
    schema: Schema,
    options: DocumentOptions,
  ) {
    this.scalars = new Scalars(text, schema, options);
    const { length } = text;
    this.lineCounter.addNewLine(0);
    for (let start = 0; ; ) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = length;
      let p = start;
      while (p < end && text.charCodeAt(p) === SPACE) p++;
      if (p < end && text.charCodeAt(p) !== HASH) {
        this.starts.push(start);
        this.indents.push(p - start);
        this.ends.push(end);
      }
      if (end === length) break;
      start = end + 1;
      this.lineCounter.addNewLine(start);
    }
  }

  document(): BlockYaml {
    if (this.starts.length === 0) throw GIVE_UP;
    const first = this.starts[0]!;
    const col = this.indents[0]!;
    // `---`, `...` and directives begin with characters no key or list item here begins with,
    // but `--- a: 1` would read as a key.
    for (let i = 0; i < this.starts.length; i++) {
      if (this.indents[i] === 0 && /^(?:---|\.\.\.)/.test(this.text.slice(this.starts[i], this.starts[i]! + 3))) throw GIVE_UP;
    }
    const { node, value } = this.block(first + col, col);
    if (this.line !== this.starts.length) throw GIVE_UP;
    return { value, root: node, tables: this.tables, lineCounter: this.lineCounter };
  }

  /** A mapping or sequence starting at `p` (column `col`) of the current line. */
  private block(p: number, col: number): { node: BlockCollection; value: unknown } {
    return this.isDash(p, this.ends[this.line]!) ? this.seq(p, col) : this.map(p, col);
  }

  private isDash(p: number, end: number): boolean {
    return this.text.charCodeAt(p) === DASH && (p + 1 === end || this.text.charCodeAt(p + 1) === SPACE);
  }

  private map(first: number, col: number): { node: BlockCollection; value: Record<string, unknown> } {
    const { text } = this;
    const { pendingKeys, pendingKeyStarts, pendingNodes } = this;
    const keyBase = pendingKeys.length;
    const nodeBase = pendingNodes.length;
    const value: Record<string, unknown> = {};
    let p = first;
    for (;;) {
      const end = this.ends[this.line]!;
      const stop = this.scalars.plainStop(p, end);
      if (text.charCodeAt(stop) !== COLON || stop === end || stop - p > MAX_KEY) throw GIVE_UP;
      const key = this.scalars.plainKey(text.slice(p, trimEnd(text, p, stop)));
      if (Object.hasOwn(value, key)) throw GIVE_UP;
      pendingKeys.push(key);
      pendingKeyStarts.push(p);
      const q = skipSpaces(text, stop + 1, end);
      if (q === end || text.charCodeAt(q) === HASH) {
        this.line++;
        const child = this.nested(col, q);
        pendingNodes.push(child.node);
        value[key] = child.value;
      } else {
        if (this.isDash(q, end)) throw GIVE_UP;
        const scalar = this.inline(q, end, col);
        pendingNodes.push(scalar.node);
        value[key] = scalar.value;
      }
      if (this.line === this.starts.length) break;
      const indent = this.indents[this.line]!;
      if (indent < col) break;
      if (indent > col) throw GIVE_UP;
      p = this.starts[this.line]! + indent;
      if (this.isDash(p, this.ends[this.line]!)) throw GIVE_UP;
    }
    const { tables } = this;
    const node: BlockCollection = { kind: 'map', start: first, first: tables.keys.length, count: pendingKeys.length - keyBase };
    for (let i = keyBase, j = nodeBase; i < pendingKeys.length; i++, j++) {
      tables.keys.push(pendingKeys[i]!);
      tables.keyStarts.push(pendingKeyStarts[i]!);
      tables.mapValues.push(pendingNodes[j]!);
    }
    pendingKeys.length = pendingKeyStarts.length = keyBase;
    pendingNodes.length = nodeBase;
    return { node, value };
  }

  /** The value of a key with nothing after its colon: a block below it, or an empty value at `empty`. */
  private nested(col: number, empty: number): { node: BlockValue; value: unknown } {
    if (this.line < this.starts.length) {
      const indent = this.indents[this.line]!;
      const p = this.starts[this.line]! + indent;
      if (indent > col) return this.block(p, indent);
      // A list may sit at its key's own indentation.
      if (indent === col && this.isDash(p, this.ends[this.line]!)) return this.seq(p, col);
    }
    return { node: this.tables.scalar({ start: empty, end: empty, plain: true, value: null }), value: null };
  }

  private seq(first: number, col: number): { node: BlockCollection; value: unknown[] } {
    const { text } = this;
    const { pendingNodes } = this;
    const base = pendingNodes.length;
    const value: unknown[] = [];
    let p = first;
    for (;;) {
      const end = this.ends[this.line]!;
      const q = skipSpaces(text, p + 1, end);
      // An item on the lines below its `-`, an empty item, or `- - x`: left to the library.
      if (q === end || text.charCodeAt(q) === HASH || this.isDash(q, end)) throw GIVE_UP;
      const ch = text.charCodeAt(q);
      if (ch !== DOUBLE_QUOTE && ch !== SINGLE_QUOTE && ch !== OPEN_BRACKET && ch !== PIPE && text.charCodeAt(this.scalars.plainStop(q, end)) === COLON) {
        const item = this.map(q, col + (q - p));
        pendingNodes.push(item.node);
        value.push(item.value);
      } else {
        const scalar = this.inline(q, end, col);
        pendingNodes.push(scalar.node);
        value.push(scalar.value);
      }
      if (this.line === this.starts.length) break;
      const indent = this.indents[this.line]!;
      if (indent > col) throw GIVE_UP;
      p = this.starts[this.line]! + indent;
      if (indent < col || !this.isDash(p, this.ends[this.line]!)) break;
    }
    const node = this.list(first, base);
    return { node, value };
  }

  /**
   * A value that starts on its key's (or `-`'s) line at `p`: a scalar or a `[…]` list of scalars,
   * followed by nothing but a comment, or a `|` block below. The lines it takes are read.
   */
  private inline(p: number, end: number, col: number): { node: BlockValue; value: unknown } {
    const { text, scalars, tables } = this;
    const ch = text.charCodeAt(p);
    if (ch === PIPE) {
      const literal = scalars.literal(p, end, col);
      while (this.line < this.starts.length && this.starts[this.line]! < literal.stop) this.line++;
      return { node: tables.scalar(literal), value: literal.value };
    }
    this.line++;
    let close: number;
    let read: { node: BlockValue; value: unknown };
    if (ch === OPEN_BRACKET) {
      const seq = scalars.flowSeq(p, end);
      const base = this.pendingNodes.length;
      for (const item of seq.items) this.pendingNodes.push(tables.scalar(item));
      read = { node: this.list(p, base), value: seq.items.map((item) => item.value) };
      close = seq.close;
    } else if (ch === DOUBLE_QUOTE || ch === SINGLE_QUOTE) {
      const quoted = scalars.quoted(p, end, ch);
      read = { node: tables.scalar(quoted), value: quoted.value };
      close = quoted.end;
    } else {
      const stop = scalars.plainStop(p, end);
      // `a: b: c` or a value ending in `:`: the library says no (or reads a mapping).
      if (stop < end && text.charCodeAt(stop) === COLON) throw GIVE_UP;
      const plain = scalars.plain(p, trimEnd(text, p, stop));
      return { node: tables.scalar(plain), value: plain.value };
    }
    // After a closing quote or bracket, only a comment, and only after a space (a `:` would make it a key).
    const q = skipSpaces(text, close, end);
    if (q < end && !(text.charCodeAt(q) === HASH && q > close)) throw GIVE_UP;
    return read;
  }

  /** A list starting at `start` whose items are the pending nodes from `base` on, moved into the tables. */
  private list(start: number, base: number): BlockCollection {
    const { pendingNodes, tables } = this;
    const node: BlockCollection = { kind: 'seq', start, first: tables.items.length, count: pendingNodes.length - base };
    for (let i = base; i < pendingNodes.length; i++) tables.items.push(pendingNodes[i]!);
    pendingNodes.length = base;
    return node;
  }
}
