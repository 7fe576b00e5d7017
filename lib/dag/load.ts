// Read a DAG file and parse its YAML, keeping every node's offset so that any key path can be
// reported as `file:line:col` (worked out only for the paths asked about). Plain block YAML is
// read by block-yaml.ts, the rest by the `yaml` library; both give the same value and places.
// No validation happens here: this only turns bytes into a value plus the means to point back
// into the text.
import { readFileSync } from 'node:fs';
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { Place } from '../common/errors.js';
import type { Locate, Problem } from '../common/problem.js';
import { readBlockYaml, walkBlock } from './block-yaml.js';
import { aliasProblems, explainYamlError, shortMessage, type YamlProblem } from './yaml-errors.js';

export type KeyPath = ReadonlyArray<string | number>;

export interface DagSource {
  /** Absolute path of the file. */
  file: string;
  /** The document as plain data (maps → objects); undefined when it could not be read or parsed. */
  value: unknown;
  /** Problems that stop the load before validation: unreadable file, YAML syntax errors. */
  problems: Problem[];
  /** Place of the value at a key path as written in the file; the nearest existing parent's when absent. */
  locate: Locate;
  /** Place of the key itself for the path's last segment (where an unknown key is reported). */
  locateKey: Locate;
  /** The text of a plain scalar as written (`1.10`, `0755`), so numbers can be kept verbatim. */
  scalarText(path: KeyPath): string | undefined;
}

/** `text`: the file's content when the caller has it already (a run's stored definition). */
export function readDagSource(file: string, given?: string): DagSource {
  let text: string;
  try {
    text = given ?? readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? String(err));
    return unreadable(file, `cannot read DAG file: ${why}`);
  }

  return fromBlockYaml(file, text) ?? fromYamlLibrary(file, text);
}

/** `merge: true`: Dagu's YAML decoder honours `<<: *anchor`. */
const YAML_OPTIONS = { merge: true } as const;

/** A file in the plain block subset of YAML (block-yaml.ts), read without the library's document model. */
export function fromBlockYaml(file: string, text: string): DagSource | undefined {
  const read = readBlockYaml(text, YAML_OPTIONS);
  if (!read) return undefined;
  const spots = (path: KeyPath): Spots => walkBlock(read, path);
  const scalarText = (path: KeyPath): string | undefined => {
    const { plain } = walkBlock(read, path);
    return plain && text.slice(plain[0], plain[1]).trim();
  };
  return placed(file, read.value, [], read.lineCounter, spots, scalarText);
}

/** Any YAML, read by the library, its syntax errors explained (yaml-errors.ts). */
export function fromYamlLibrary(file: string, text: string): DagSource {
  const start: Place = { file, line: 1, col: 1 };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter, prettyErrors: true });
  const placeAt = (offset: number): Place => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };

  const problems: Problem[] = [];
  const seen = new Set<string>();
  const add = (found: YamlProblem | undefined): void => {
    if (!found) return;
    const place = placeAt(found.offset);
    // yaml often reports one mistake twice: at the same spot (a bad indent as two key errors), or
    // further along the same line (each ": " of a plain value).
    const spot = `${place.line}:${place.col}`;
    const same = `${place.line}:${found.message}`;
    if (seen.has(spot) || seen.has(same)) return;
    seen.add(spot).add(same);
    problems.push({ path: '', message: `invalid YAML: ${found.message}`, place });
  };
  for (const err of doc.errors) add(explainYamlError(err, text));
  if (problems.length === 0) for (const found of aliasProblems(doc)) add(found);

  let value: unknown;
  if (problems.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      problems.push({ path: '', message: `invalid YAML: ${shortMessage((err as Error).message)}`, place: start });
    }
  }

  const spots = (path: KeyPath): Spots => {
    const found = walk(doc, path);
    return { node: found.node?.range?.[0], key: found.key?.range?.[0], parent: found.parent?.range?.[0] };
  };
  const scalarText = (path: KeyPath): string | undefined => {
    const { node } = walk(doc, path);
    if (!isScalar(node) || node.type !== 'PLAIN' || !node.range) return undefined;
    return text.slice(node.range[0], node.range[1]).trim();
  };
  return placed(file, value, problems, lineCounter, spots, scalarText);
}

/** Offsets where a key path leads: its value, its key, the deepest node reached. */
interface Spots {
  node?: number;
  key?: number;
  parent?: number;
}

/** A source whose places are worked out only for the paths asked about. */
function placed(file: string, value: unknown, problems: Problem[], lineCounter: LineCounter, spots: (path: KeyPath) => Spots, scalarText: DagSource['scalarText']): DagSource {
  const start: Place = { file, line: 1, col: 1 };
  const placeAt = (offset: number | undefined): Place => {
    if (offset === undefined) return start;
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const locate: Locate = (path) => {
    const found = spots(path);
    return placeAt(found.node ?? found.key ?? found.parent);
  };
  const locateKey: Locate = (path) => {
    const found = spots(path);
    return placeAt(found.key ?? found.node ?? found.parent);
  };
  return { file, value, problems, locate, locateKey, scalarText };
}

function unreadable(file: string, message: string): DagSource {
  const place: Place = { file, line: 1, col: 1 };
  return {
    file,
    value: undefined,
    problems: [{ path: '', message, place }],
    locate: () => place,
    locateKey: () => place,
    scalarText: () => undefined,
  };
}

interface Found {
  /** The node at the path, when it exists and has a value. */
  node?: Node | null;
  /** The key node of the last map segment that was found. */
  key?: Node | null;
  /** The deepest node reached (the parent of a missing key). */
  parent?: Node | null;
}

function walk(doc: Document, path: KeyPath): Found {
  let node = resolve(doc, doc.contents as Node | null);
  let key: Node | null | undefined;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    if (isMap(node)) {
      const pair = findPair(doc, node, String(segment));
      if (!pair) return { parent: node };
      key = pair.key as Node | null;
      const value = resolve(doc, pair.value as Node | null);
      // `key:` with no value: the key is the best place there is.
      if (value === null || value === undefined) return { key, parent: node };
      node = value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = resolve(doc, node.items[segment] as Node | null | undefined);
      if (item === null || item === undefined) return { parent: node };
      key = undefined;
      node = item;
    } else {
      return { parent: node };
    }
  }
  return { node, key, parent: node };
}

function findPair(doc: Document, map: Node, key: string): { key: unknown; value: unknown } | undefined {
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key) return pair;
  }
  // A key brought in by `<<: *anchor` lives in the anchored map.
  for (const pair of map.items) {
    if (!isPair(pair) || !isScalar(pair.key) || pair.key.value !== '<<') continue;
    const sources = resolve(doc, pair.value as Node | null);
    const maps = isSeq(sources) ? sources.items.map((n) => resolve(doc, n as Node | null)) : [sources];
    for (const m of maps) {
      const found = m ? findPair(doc, m, key) : undefined;
      if (found) return found;
    }
  }
  return undefined;
}

function resolve(doc: Document, node: Node | null | undefined): Node | null | undefined {
  let current = node;
  for (let depth = 0; isAlias(current) && depth < 100; depth++) current = current.resolve(doc) as Node | undefined;
  return current;
}
