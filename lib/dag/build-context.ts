// The state the DAG builder table fills in, and what every builder shares: env entries, scalars
// as written, preconditions, `${VAR}` evaluation that records its problems, and places.
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { chainLookups, expand, type Lookup } from '../common/expand.js';
import type { Locate, Problem } from '../common/problem.js';
import type { DagSource, KeyPath } from './load.js';
import type { Dag, EnvList, Precondition } from '../common/model.js';
import { withNamespaces } from './v2/refs.js';
import type { DagFile, EnvFile, PreconditionsFile } from './schema.js';
import type { Path, Validated } from './validate.js';

export const MAX_STEP_NAME_LENGTH = 40;

/** The mutable state the builder table fills in. */
export interface Build {
  v: Validated;
  source: DagSource;
  data: DagFile;
  file: string;
  fileDir: string;
  processEnv: NodeJS.ProcessEnv;
  cliParams: string[];
  problems: Problem[];
  dag: Dag;
  /** DAG env before dotenv (what `container.env` may refer to, §2.1). */
  yamlEnv: EnvList;
  /** Params as `name → value`, `1`, `2`… included. */
  paramScope: Record<string, string>;
}

export type Builder = (b: Build) => void;

/** `env:` as ordered entries with their canonical paths; values are text, not yet evaluated. */
export function envEntries(b: Build, base: Path, raw: EnvFile | undefined): Array<{ name: string; value: string; path: Path }> {
  const out: Array<{ name: string; value: string; path: Path }> = [];
  if (raw === undefined) return out;
  const fromMap = (map: Record<string, unknown>, path: Path) => {
    for (const [name, value] of Object.entries(map)) out.push({ name, value: scalarText(b, [...path, name], value), path: [...path, name] });
  };
  if (Array.isArray(raw)) {
    raw.forEach((item, i) => {
      if (typeof item === 'string') {
        const eq = item.indexOf('=');
        if (eq <= 0) b.problems.push(b.v.problem([...base, i], `env config should be map of strings or array of key=value formatted string (got "${item}")`));
        else out.push({ name: item.slice(0, eq).trim(), value: item.slice(eq + 1), path: [...base, i] });
      } else fromMap(item, [...base, i]);
    });
  } else fromMap(raw, base);
  return out;
}

/** A scalar as text; numbers and booleans as written in the file (`1.10` stays `1.10`). */
export function scalarText(b: Build, path: KeyPath, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return b.source.scalarText(b.v.original(path)) ?? String(value);
}

export function buildPreconditions(b: Build, base: Path, raw: { preconditions?: PreconditionsFile; precondition?: PreconditionsFile }): Precondition[] {
  const out: Precondition[] = [];
  for (const key of ['preconditions', 'precondition'] as const) {
    const value = raw[key];
    if (value === undefined) continue;
    const items = Array.isArray(value) ? value.map((v, i) => [v, [...base, key, i]] as const) : [[value, [...base, key]] as const];
    for (const [item, path] of items) {
      if (typeof item === 'string') {
        out.push({ condition: item, negate: false });
        continue;
      }
      const condition = item.condition ?? item.command;
      if (condition === undefined) {
        b.problems.push(b.v.problem([...path], 'precondition requires a condition'));
        continue;
      }
      const p: Precondition = { condition, negate: item.negate ?? false };
      if (item.expected !== undefined) p.expected = typeof item.expected === 'string' ? item.expected : scalarText(b, [...path, 'expected'], item.expected);
      out.push(p);
    }
  }
  return out;
}

/**
 * Expand `${VAR}` (and backticks when `commandEnv` is given); a failed substitution is a problem.
 * A Dagu 2.x file runs no command here and also resolves `${params.x}` and `${env.X}`.
 */
export function evaluate(b: Build, path: KeyPath, text: string, lookup: Lookup, commandEnv: NodeJS.ProcessEnv | undefined): string {
  if (b.dag.dialect === 'dagu-2') return expand(text, withNamespaces(lookup, b.paramScope));
  try {
    return expand(text, lookup, commandEnv ? { backticks: true, cwd: b.fileDir, env: commandEnv } : {});
  } catch (err) {
    if (err instanceof SkiffError) {
      b.problems.push(b.v.problem(path, err.message));
      return text;
    }
    throw err;
  }
}

/** What DAG-level paths may refer to: params, DAG env, then the process env. */
export function dagLookup(b: Build): Lookup {
  return chainLookups(b.paramScope, Object.fromEntries(b.dag.env), b.processEnv);
}

export function relativeLocate(b: Build, canon: Path): Locate {
  const base = b.v.original(canon);
  return (path) => b.source.locate([...base, ...path]);
}

export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path === '~' || path.startsWith('~/')) return (env.HOME || homedir()) + path.slice(1);
  return path;
}

export function resolvePath(base: string, path: string, env: NodeJS.ProcessEnv): string {
  return resolve(base, expandHome(path, env));
}
