// Structure of a DAG file: fold keys to their camelCase names (Dagu matches them
// case-insensitively, §1.1), reject unknown keys, then check types against the typebox schema
// and turn each error into a Problem placed on the value as written. Values that fail are
// removed, so the builder can go on and report the file's other problems in the same run.
// Interpreted, not compiled, for the usual file: a DAG is checked once per process, and compiling
// the schema to a function costs several times what one interpreted check does (~50 ms vs ~10 ms
// at start-up); a file of more than COMPILE_ABOVE_STEPS steps is checked compiled (checkDag).
import { Compile, type Validator } from 'typebox/compile';
import { Check, Errors } from 'typebox/value';
import { Settings } from 'typebox/system';
import type { TSchema } from 'typebox';
import type { Place } from '../common/errors.js';
import type { DagSource, KeyPath } from './load.js';
import { formatPath, type Problem } from '../common/problem.js';
import { didYouMeanText } from '../common/did-you-mean.js';
import { DagFileSchema, EXACT_KEYS, type DagFile } from './schema.js';
import { UNSUPPORTED_DAG_KEYS, UNSUPPORTED_STEP_KEYS, unsupportedMessage, type Unsupported } from './unsupported-keys.js';

export type Path = Array<string | number>;

export interface Validated {
  /** The file with canonical keys; every value left in it matches the schema. */
  data: DagFile;
  problems: Problem[];
  /** Keys of Dagu's that skiff ignores without changing what runs (unsupported-keys.ts). */
  warnings: Problem[];
  /** The key path as written in the file for a canonical path. */
  original(path: KeyPath): Path;
  /** Problem for a canonical path, placed on its value (or on its key with `key: true`). */
  problem(path: KeyPath, message: string, options?: { key?: boolean }): Problem;
  place(path: KeyPath): Place;
  /** True when the value at this canonical path was removed because it was invalid. */
  pruned(path: KeyPath): boolean;
}

type Json = Record<string, unknown>;

const lowerKeys = (table: Record<string, Unsupported>) => new Map(Object.entries(table).map(([k, v]) => [k.toLowerCase(), v]));
const UNSUPPORTED_DAG = lowerKeys(UNSUPPORTED_DAG_KEYS);
const UNSUPPORTED_STEP = lowerKeys(UNSUPPORTED_STEP_KEYS);

/** An object schema's property names by their lower-case form, made once per schema. */
const lowerNamesOf = new WeakMap<object, Map<string, string>>();
function lowerNames(schema: object, properties: Record<string, unknown>): Map<string, string> {
  let names = lowerNamesOf.get(schema);
  if (!names) lowerNamesOf.set(schema, (names = new Map(Object.keys(properties).map((k) => [k.toLowerCase(), k]))));
  return names;
}

export function validateDag(source: DagSource): Validated {
  const keyMaps = new WeakMap<object, Map<string, string>>();
  const prunedPaths = new Set<string>();
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  let root: unknown;

  const original = (path: KeyPath): Path => {
    const out: Path = [];
    let node: unknown = root;
    for (const segment of path) {
      if (typeof segment === 'number') out.push(segment);
      else out.push((isObject(node) && keyMaps.get(node)?.get(segment)) || segment);
      node = isObject(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[segment] : undefined;
    }
    return out;
  };
  const place = (path: KeyPath): Place => source.locate(original(path));
  const problem = (path: KeyPath, message: string, options: { key?: boolean } = {}): Problem => {
    const orig = original(path);
    return { path: formatPath(orig), message, place: options.key ? source.locateKey(orig) : source.locate(orig) };
  };

  const result: Validated = {
    data: {} as DagFile,
    problems,
    warnings,
    original,
    problem,
    place,
    pruned: (path) => prunedPaths.has(JSON.stringify(path)),
  };

  const value = source.value;
  if (value === null || value === undefined) {
    problems.push({ path: '', message: 'DAG file is empty', place: source.locate([]) });
    return result;
  }
  if (!isObject(value)) {
    problems.push({ path: '', message: `DAG file must be a map of keys, got ${kindOf(value)}`, place: source.locate([]) });
    return result;
  }

  // Fold keys, collecting unknown and duplicate keys on the way.
  const fold = (schema: TSchema, node: unknown, canon: Path, orig: Path, owner: Owner): unknown => {
    const s = schema as Json;
    if (Array.isArray(s.anyOf)) {
      const branch = (s.anyOf as Json[]).find((b) => accepts(b, node));
      return branch ? fold(branch as TSchema, node, canon, orig, owner) : node;
    }
    if (s.type === 'object' && isObject(node)) {
      if (isObject(s.properties)) return foldObject(s as Json, node, canon, orig, owner);
      const valueSchema = isObject(s.patternProperties) ? Object.values(s.patternProperties)[0] : undefined;
      if (!valueSchema) return node;
      const out: Json = {};
      for (const [k, v] of Object.entries(node)) {
        const childCanon = [...canon, k];
        const childOrig = [...orig, k];
        out[k] = fold(valueSchema as TSchema, v, childCanon, childOrig, ownerOf(childCanon, childOrig, v, owner));
      }
      return out;
    }
    if (s.type === 'array' && Array.isArray(node) && isObject(s.items)) {
      return node.map((item, i) => {
        const childCanon = [...canon, i];
        const childOrig = [...orig, i];
        return fold(s.items as TSchema, item, childCanon, childOrig, ownerOf(childCanon, childOrig, item, owner));
      });
    }
    return node;
  };

  const foldObject = (s: Json, node: Json, canon: Path, orig: Path, owner: Owner): Json => {
    const properties = s.properties as Record<string, TSchema>;
    const exact = EXACT_KEYS.has(s);
    const byLower = lowerNames(s, properties);
    const out: Json = {};
    const keys = new Map<string, string>();
    let respelled = false;
    const unsupported = canon.length === 0 ? UNSUPPORTED_DAG : stepPathLength(canon) === canon.length ? UNSUPPORTED_STEP : undefined;
    for (const [key, v] of Object.entries(node)) {
      const lower = key.toLowerCase();
      const name = exact ? (Object.hasOwn(properties, key) ? key : undefined) : byLower.get(lower);
      const notSupported = unsupported?.get(lower);
      if (notSupported !== undefined) {
        const said = { path: formatPath([...orig, key]), message: unsupportedMessage(owner(), key, notSupported), place: source.locateKey([...orig, key]) };
        (notSupported.refuse ? problems : warnings).push(said);
        // A step that calls another DAG has no command of its own: that is said by this, not by "command is required".
        if (notSupported.refuse && unsupported === UNSUPPORTED_STEP && /^(call|run)$/i.test(key)) prunedPaths.add(JSON.stringify([...canon, 'command']));
        // Known to the schema (so editors still offer it), it is still type-checked; otherwise dropped.
        if (name === undefined) continue;
      }
      if (name === undefined) {
        // Top-level `x-` keys hold what YAML anchors point at (as in Compose files); nothing reads them.
        if (canon.length === 0 && key.startsWith('x-')) continue;
        // Unknown keys are refused everywhere, continueOn's map included (Dagu ignores them there,
        // and `failed: true` for `failure: true` then aborts the run downstream).
        const hint = didYouMeanText(key, Object.keys(properties));
        problems.push({ path: formatPath([...orig, key]), message: `${owner()} has invalid key: ${key}${hint}`, place: source.locateKey([...orig, key]) });
        continue;
      }
      const first = keys.get(name);
      if (first !== undefined) {
        problems.push({ path: formatPath([...orig, key]), message: `${owner()} has duplicate key: ${key} (same as ${first})`, place: source.locateKey([...orig, key]) });
        continue;
      }
      keys.set(name, key);
      if (name !== key) respelled = true;
      // `key:` with nothing after it is absent, as in Go's decoding into a struct.
      if (v === null) continue;
      const childCanon = [...canon, name];
      const childOrig = [...orig, key];
      out[name] = fold(properties[name]!, v, childCanon, childOrig, ownerOf(childCanon, childOrig, v, owner));
    }
    // Only a map with a key written other than canonically needs its spellings kept.
    if (respelled) keyMaps.set(out, keys);
    return out;
  };

  root = fold(DagFileSchema, value, [], [], () => 'DAG');
  result.data = root as DagFile;

  if (!checkDag(root)) {
    const { described, failing } = describeErrors(allErrors(DagFileSchema, root), root, problem, original);
    problems.push(...described);
    for (const path of failing) prune(root as Json, path, prunedPaths);
  }
  return result;
}

// Interpreted for the usual file; compiled once (~50 ms) for a large one, where it checks about
// ten times faster (a 20 000-step file: ~70 ms against ~850 ms).
const COMPILE_ABOVE_STEPS = 1000;
let compiled: Validator<{}, typeof DagFileSchema> | undefined;

function checkDag(root: unknown): boolean {
  const steps = isObject(root) ? root.steps : undefined;
  const size = Array.isArray(steps) ? steps.length : isObject(steps) ? Object.keys(steps).length : 0;
  if (size <= COMPILE_ABOVE_STEPS) return Check(DagFileSchema, root);
  compiled ??= Compile(DagFileSchema);
  return compiled.Check(root);
}

/** Who owns a key, for messages; worked out only when a message needs it (most files need none). */
type Owner = () => string;

/** `DAG`, `step "build"`, `step "build" retryPolicy`, `handlerOn`. */
function ownerOf(canon: Path, orig: Path, node: unknown, parentOwner: Owner): Owner {
  return () => ownerName(canon, orig, node, parentOwner);
}

function ownerName(canon: Path, orig: Path, node: unknown, parentOwner: Owner): string {
  const stepDepth = stepPathLength(canon);
  if (stepDepth !== undefined && canon.length === stepDepth) {
    const name = isObject(node) ? Object.entries(node).find(([k, v]) => k.toLowerCase() === 'name' && typeof v === 'string')?.[1] : undefined;
    if (typeof name === 'string' && name.trim() !== '') return `step "${name.trim()}"`;
    if (canon[0] === 'steps' && typeof canon[1] === 'string') return `step "${canon[1]}"`;
    return formatPath(orig);
  }
  if (stepDepth !== undefined && canon.length > stepDepth) return `${parentOwner()} ${String(canon[canon.length - 1])}`.replace(/ (\d+)$/, '[$1]');
  return canon.length === 0 ? 'DAG' : formatPath(orig);
}

/** Length of the path of the step that contains `path`, if it is inside a step. */
export function stepPathLength(path: KeyPath): number | undefined {
  if (path[0] === 'handlerOn') return path.length >= 2 ? 2 : undefined;
  if (path[0] !== 'steps' || path.length < 2) return undefined;
  if (typeof path[1] === 'string') return 2; // map form
  return typeof path[2] === 'number' ? 3 : 2; // a member of a parallel group, or a step
}

interface SchemaError {
  keyword: string;
  path: Path;
  params: Record<string, unknown>;
  message: string;
}

function allErrors(schema: TSchema, value: unknown): SchemaError[] {
  // typebox stops at 8 errors by default; this file wants all of them. The setting is global and
  // Errors() is synchronous, so restoring it right after leaves nobody else affected.
  const settings = Settings.Get();
  const saved = settings.maxErrors;
  Settings.Set({ maxErrors: 100_000 });
  try {
    return Errors(schema, value).map((e) => ({
      keyword: e.keyword,
      path: pointerToPath(e.instancePath, value),
      params: e.params as Record<string, unknown>,
      message: e.message,
    }));
  } finally {
    Settings.Set({ maxErrors: saved });
  }
}

function pointerToPath(pointer: string, root: unknown): Path {
  if (pointer === '') return [];
  const out: Path = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment: string | number = Array.isArray(node) && /^\d+$/.test(key) ? Number(key) : key;
    out.push(segment);
    node = isObject(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[segment] : undefined;
  }
  return out;
}

/**
 * One problem per failing value. A union reports every branch it tried; the deepest errors are
 * the ones about the branch that fits the value (a map where a step map is allowed), so errors
 * with a deeper error below them are dropped, and the rest are merged per path.
 */
function describeErrors(
  errors: SchemaError[],
  root: unknown,
  problem: Validated['problem'],
  original: Validated['original'],
): { described: Problem[]; failing: Path[] } {
  const relevant = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'boolean' && e.keyword !== 'additionalProperties');
  // A `required` error is about the object itself (its path is the object's), so it is kept, and
  // it still shows that the branch taking that object was the one tried.
  // Paths with an error below them, gathered once (a file with an error in each of 100 000
  // steps must not compare every error with every other).
  const above = new Set<string>();
  for (const e of relevant) for (let n = 0; n < e.path.length; n++) above.add(JSON.stringify(e.path.slice(0, n)));
  const groups = new Map<string, SchemaError[]>();
  for (const e of relevant) {
    const key = JSON.stringify(e.path);
    if (e.keyword !== 'required' && above.has(key)) continue;
    const group = groups.get(key);
    if (group) group.push(e);
    else groups.set(key, [e]);
  }
  const out: Problem[] = [];
  for (const group of groups.values()) {
    const path = group[0]!.path;
    const where = formatPath(original(path));
    const value = valueAt(root, path);
    const last = original(path).at(-1);
    const required = group.filter((e) => e.keyword === 'required');
    for (const e of required) {
      for (const name of (e.params.requiredProperties as string[] | undefined) ?? []) {
        out.push(problem(path, `${where} is missing required key: ${name}`));
      }
    }
    const rest = group.filter((e) => e.keyword !== 'required');
    // A value the object branch of a union took: the other branches' type errors say nothing.
    if (rest.length === 0 || (required.length > 0 && rest.every((e) => e.keyword === 'type'))) continue;
    if (rest.every((e) => e.keyword === 'const')) {
      const allowed = rest.map((e) => String(e.params.allowedValue));
      out.push(problem(path, `invalid ${String(last)}: ${show(value)} (must be one of: ${allowed.join(', ')})`));
      continue;
    }
    const specific = rest.filter((e) => e.keyword !== 'type' && e.keyword !== 'const');
    if (specific.length > 0) {
      for (const e of specific) out.push(problem(path, describeConstraint(e, where, last, value)));
      continue;
    }
    const expected = [...new Set(rest.filter((e) => e.keyword === 'type').map((e) => typeName(String(e.params.type))))];
    out.push(problem(path, `${where}: expected ${joinOr(expected)}, got ${kindOf(value)}`));
  }
  return { described: out, failing: [...groups.values()].map((g) => g[0]!.path) };
}

function describeConstraint(e: SchemaError, where: string, last: string | number | undefined, value: unknown): string {
  switch (e.keyword) {
    case 'minimum':
      return `${where}: must be >= ${String(e.params.limit)}, got ${show(value)}`;
    case 'exclusiveMinimum':
      return `${where}: must be greater than ${String(e.params.limit)}, got ${show(value)}`;
    case 'pattern':
      return `invalid ${String(last)}: ${show(value)} (must match ${String(e.params.pattern)})`;
    default:
      return `${where}: ${e.message}`;
  }
}

/**
 * Remove a failing value so that building can continue: the nearest map entry that holds it, or
 * a whole step (replaced by null, which the builder skips) when the step itself is malformed.
 */
function prune(root: Json, path: Path, prunedPaths: Set<string>): void {
  let cut = path.length;
  if (path[0] === 'steps' && typeof path[1] === 'number' && path.length <= 3 && path.every((s, i) => i === 0 || typeof s === 'number')) {
    cut = path.length; // a list item that is not a step: null it
  } else {
    while (cut > 0 && !(typeof path[cut - 1] === 'string' && isObject(valueAt(root, path.slice(0, cut - 1))))) cut--;
  }
  if (cut === 0) return;
  const parent = valueAt(root, path.slice(0, cut - 1));
  const key = path[cut - 1]!;
  if (Array.isArray(parent) && typeof key === 'number') parent[key] = null;
  else if (isObject(parent)) delete parent[key as string];
  else return;
  prunedPaths.add(JSON.stringify(path.slice(0, cut)));
}

function valueAt(root: unknown, path: KeyPath): unknown {
  let node = root;
  for (const segment of path) node = isObject(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[segment] : undefined;
  return node;
}

/** Does this schema branch take a value of this kind? Used to follow unions while folding keys. */
function accepts(schema: Json, value: unknown): boolean {
  if (schema.type === undefined && schema.const === undefined && schema.anyOf === undefined) return true;
  if (schema.const !== undefined) return schema.const === value;
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Json[]).some((b) => accepts(b, value));
  switch (schema.type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      return false;
  }
}

export function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The YAML-flavoured name of a value's type: string, integer, number, boolean, list, map, null. */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'map';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeName(jsonType: string): string {
  return jsonType === 'object' ? 'map' : jsonType === 'array' ? 'list' : jsonType;
}

function joinOr(names: string[]): string {
  if (names.length <= 1) return names[0] ?? 'nothing';
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
}
