// lib/dag's public surface: load a DAG file into a `Dag`, or publish the file's JSON Schema.
import { resolve } from 'node:path';
import { buildDag, type BuildOptions } from './build.js';
import type { Dag } from '../common/model.js';
import { readDagSource } from './load.js';
import { DagLoadError, type Problem } from '../common/problem.js';
import { isObject, validateDag } from './validate.js';
import { prepareSource } from './v2/read.js';

export interface LoadOptions extends Omit<BuildOptions, 'dialect'> {
  /** The file's text, read already (a retry loads the run's stored copy, not the file on disk). */
  text?: string;
}

/**
 * Read, validate and build a DAG file, written for Dagu 1.2x or Dagu 2.x (told apart by what it
 * contains). Throws one `DagLoadError` listing every problem found (unknown keys, wrong types,
 * bad references, cycles…), each with its `file:line:col`.
 */
export function loadDag(file: string, opts: LoadOptions = {}): Dag {
  return loadDagWithWarnings(file, opts).dag;
}

/** `loadDag`, with what `dagu validate` would warn about (deprecated 2.x syntax), which never fails a load. */
export function loadDagWithWarnings(file: string, opts: LoadOptions = {}): { dag: Dag; warnings: Problem[] } {
  const raw = readDagSource(resolve(file), opts.text);
  if (raw.problems.length > 0) throw new DagLoadError(raw.problems);
  const prepared = prepareSource(raw);
  const source = prepared.source;
  const validated = validateDag(source);
  // Nothing to build from a file that is empty or not a map of keys.
  if (!isObject(source.value)) throw new DagLoadError([...prepared.problems, ...validated.problems]);
  const { dag, problems } = buildDag(validated, source, { ...opts, dialect: prepared.dialect });
  const all = [...prepared.problems, ...prepared.respell([...validated.problems, ...problems])];
  if (all.length > 0) throw new DagLoadError(sortByPlace(all, source.file));
  prepared.finish(dag);
  // One list: deprecated 2.x syntax (dialect) and Dagu keys skiff ignores (validate), in file order.
  const warnings = sortByPlace([...prepared.warnings, ...validated.warnings], source.file);
  return { dag: { ...dag, warnings }, warnings };
}

/** File order: the DAG file's problems first (then e.g. a dotenv file's), by line and column. */
function sortByPlace(problems: Problem[], file: string): Problem[] {
  const rank = (p: Problem) => (p.place.file === file ? 0 : 1);
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p) - rank(b.p) || a.p.place.file.localeCompare(b.p.place.file) || a.p.place.line - b.p.place.line || a.p.place.col - b.p.place.col || a.i - b.i)
    .map(({ p }) => p);
}

export { dagJsonSchema } from './schema.js';
export { dagJsonSchemaV2, schemaAt } from './v2/schema.js';
export { migrateText, type Migration, type MigrationNote } from './v2/migrate.js';
export { findCycles, topologicalOrder, type GraphNode } from './graph.js';
export { DagLoadError, type Problem } from '../common/problem.js';
export type * from '../common/model.js';
