// lib/dag's public surface: load a DAG file into a `Dag`, or publish the file's JSON Schema.
import { resolve } from 'node:path';
import { buildDag, type BuildOptions } from './build.js';
import type { Dag } from './model.js';
import { readDagSource } from './load.js';
import { DagLoadError, type Problem } from '../common/problem.js';
import { isObject, validateDag } from './validate.js';

export interface LoadOptions extends BuildOptions {
  /** The file's text, read already (a retry loads the run's stored copy, not the file on disk). */
  text?: string;
}

/**
 * Read, validate and build a DAG file. Throws one `DagLoadError` listing every problem found
 * (unknown keys, wrong types, bad references, cycles…), each with its `file:line:col`.
 */
export function loadDag(file: string, opts: LoadOptions = {}): Dag {
  const source = readDagSource(resolve(file), opts.text);
  if (source.problems.length > 0) throw new DagLoadError(source.problems);
  const validated = validateDag(source);
  // Nothing to build from a file that is empty or not a map of keys.
  if (!isObject(source.value)) throw new DagLoadError(validated.problems);
  const { dag, problems } = buildDag(validated, source, opts);
  const all = [...validated.problems, ...problems];
  if (all.length > 0) throw new DagLoadError(sortByPlace(all, source.file));
  return { ...dag, warnings: sortByPlace(validated.warnings, source.file) };
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
export { findCycles, topologicalOrder, type GraphNode } from './graph.js';
export { DagLoadError, type Problem } from '../common/problem.js';
export type * from './model.js';
