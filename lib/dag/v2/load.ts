// Temporary home of the two-dialect load, folded into lib/dag/index.ts once it can be edited.
import { resolve } from 'node:path';
import { buildDag, type BuildOptions } from '../build.js';
import { readDagSource } from '../load.js';
import type { Dag } from '../model.js';
import { DagLoadError, type Problem } from '../problem.js';
import { isObject, validateDag } from '../validate.js';
import type { Dialect } from './detect.js';
import { prepareSource } from './read.js';

export function loadAnyDag(file: string, opts: BuildOptions = {}): { dag: Dag; warnings: Problem[]; dialect: Dialect } {
  const raw = readDagSource(resolve(file));
  if (raw.problems.length > 0) throw new DagLoadError(raw.problems);
  const prepared = prepareSource(raw);
  const source = prepared.source;
  const validated = validateDag(source);
  if (!isObject(source.value)) throw new DagLoadError([...prepared.problems, ...validated.problems]);
  const { dag, problems } = buildDag(validated, source, opts);
  const all = [...prepared.problems, ...prepared.respell([...validated.problems, ...problems])];
  if (all.length > 0) throw new DagLoadError(sortByPlace(all, source.file));
  prepared.finish(dag);
  return { dag, warnings: prepared.warnings, dialect: prepared.dialect };
}

function sortByPlace(problems: Problem[], file: string): Problem[] {
  const rank = (p: Problem) => (p.place.file === file ? 0 : 1);
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p) - rank(b.p) || a.p.place.file.localeCompare(b.p.place.file) || a.p.place.line - b.p.place.line || a.p.place.col - b.p.place.col || a.i - b.i)
    .map(({ p }) => p);
}
