// Validated file → immutable Dag. Like Dagu's builder (anchors.md §2) this is a table of
// (field, build function) run in order, every entry runs and every problem is collected, each
// placed on the value it is about. Variables are evaluated here as Dagu does at load time:
// params, then env, then dotenv (docs/dagu-behavior.md §2.1); step env stays unevaluated.
// Params and dotenv: build-params.ts; steps and handlers: build-steps.ts; the builders' shared
// state and pieces: build-context.ts.
import { basename, dirname, extname } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { chainLookups } from '../common/expand.js';
import { formatPath, type Problem } from '../common/problem.js';
import { configChecksFor } from '../executors/contract.js';
import { buildPreconditions, dagLookup, envEntries, evaluate, relativeLocate, resolvePath, type Build, type Builder } from './build-context.js';
import { buildDotenv, buildParams } from './build-params.js';
import { buildHandlers, buildSteps } from './build-steps.js';
import { findCycles } from './graph.js';
import type { DagSource } from './load.js';
import type { Dag, Dialect } from '../common/model.js';
import { buildRegistryAuths } from './registry-auths.js';
import type { EnvFile } from './schema.js';
import type { Validated } from './validate.js';

export interface BuildOptions {
  /** CLI parameters: positional values or `NAME=value`, overriding the file's by position or name. */
  params?: string[];
  /** The process environment (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Set by the loader from what the file contains (lib/dag/v2/detect.ts). */
  dialect?: Dialect;
}

const DEFAULT_MAX_OUTPUT_SIZE = 1024 * 1024;
const DEFAULT_MAX_CLEANUP_SEC = 5;

/** The DAG-level builder table, in evaluation order. */
const DAG_BUILDERS: Array<[field: string, build: Builder]> = [
  ['name', buildName],
  ['type', (b) => (b.dag.type = b.data.type ?? 'chain')],
  ['params', buildParams],
  ['env', buildEnv],
  ['workingDir', buildWorkingDir],
  ['dotenv', buildDotenv],
  ['limits', buildLimits],
  ['preconditions', (b) => (b.dag.preconditions = buildPreconditions(b, [], b.data))],
  ['container', buildContainer],
  ['registryAuths', buildRegistryAuthsField],
  ['steps', buildSteps],
  ['handlerOn', buildHandlers],
  ['graph', checkGraph],
];

/** The Dag of a file with no keys set: every field at Dagu's default (the name comes later). */
export function emptyDag(file: string, dir: string): Dag {
  return {
    name: '',
    dialect: 'dagu-1.2x',
    file,
    dir,
    type: 'chain',
    env: [],
    params: { positional: [], named: [] },
    steps: [],
    handlerOn: {},
    maxActiveSteps: 0,
    delaySec: 0,
    preconditions: [],
    maxOutputSize: DEFAULT_MAX_OUTPUT_SIZE,
    maxCleanUpTimeSec: DEFAULT_MAX_CLEANUP_SEC,
    warnings: [],
  };
}

export function buildDag(v: Validated, source: DagSource, options: BuildOptions = {}): { dag: Dag; problems: Problem[] } {
  const file = source.file;
  const fileDir = dirname(file);
  const b: Build = {
    v,
    source,
    data: v.data,
    file,
    fileDir,
    processEnv: options.env ?? process.env,
    cliParams: options.params ?? [],
    problems: [],
    yamlEnv: [],
    paramScope: {},
    dag: { ...emptyDag(file, fileDir), dialect: options.dialect ?? 'dagu-1.2x' },
  };
  for (const [, build] of DAG_BUILDERS) build(b);
  return { dag: b.dag, problems: b.problems };
}

// ---------------------------------------------------------------------------------------------
// DAG fields

function buildName(b: Build): void {
  const name = b.data.name?.trim();
  b.dag.name = name ? name : basename(b.file, extname(b.file));
}

function buildLimits(b: Build): void {
  const d = b.data;
  if (d.maxActiveSteps !== undefined) b.dag.maxActiveSteps = d.maxActiveSteps;
  if (d.timeoutSec !== undefined) b.dag.timeoutSec = d.timeoutSec;
  if (d.delaySec !== undefined) b.dag.delaySec = d.delaySec;
  if (d.maxOutputSize !== undefined) b.dag.maxOutputSize = d.maxOutputSize;
  if (d.maxCleanUpTimeSec !== undefined) b.dag.maxCleanUpTimeSec = d.maxCleanUpTimeSec;
}

function buildEnv(b: Build): void {
  const entries = envEntries(b, ['env'], b.data.env as EnvFile | undefined);
  const env: Array<[string, string]> = [];
  const scope: Record<string, string> = {};
  for (const { name, value, path } of entries) {
    // A value sees the entries before it, the params and the process env (§2.1).
    const evaluated = evaluate(b, path, value, chainLookups(scope, b.paramScope, b.processEnv), { ...b.processEnv, ...scope });
    env.push([name, evaluated]);
    scope[name] = evaluated;
  }
  b.yamlEnv = env;
  b.dag.env = env;
}

function buildWorkingDir(b: Build): void {
  const raw = b.data.workingDir;
  if (raw === undefined || raw.trim() === '') return;
  const expanded = evaluate(b, ['workingDir'], raw.trim(), dagLookup(b), undefined);
  b.dag.dir = resolvePath(b.fileDir, expanded, b.processEnv);
}

function buildContainer(b: Build): void {
  if (b.data.container === undefined) return;
  const lookup = chainLookups(b.paramScope, Object.fromEntries(b.yamlEnv), b.processEnv);
  const container = configChecksFor('docker').dagContainer;
  if (!container) throw new SkiffError('config', 'internal error: the docker executor does not decode the DAG-level container block');
  const { value, problems } = container.build(b.data.container, relativeLocate(b, ['container']), {
    dir: b.dag.dir,
    lookup,
    path: formatPath(b.v.original(['container'])),
  });
  b.problems.push(...problems);
  if (value) b.dag.container = value;
}

function buildRegistryAuthsField(b: Build): void {
  if (b.data.registryAuths === undefined) return;
  // 1.2x-era Dagu expands these with its process environment, which already holds the DAG env.
  const lookup = chainLookups(Object.fromEntries(b.dag.env), b.processEnv);
  const { value, problems } = buildRegistryAuths(b.data.registryAuths, relativeLocate(b, ['registryAuths']), {
    lookup,
    path: formatPath(b.v.original(['registryAuths'])),
  });
  b.problems.push(...problems);
  if (value) b.dag.registryAuths = value;
}

function checkGraph(b: Build): void {
  // A duplicated name (reported already) makes the graph ambiguous: keep its first step only.
  const seen = new Set<string>();
  const nodes = b.dag.steps.filter((s) => !seen.has(s.name) && seen.add(s.name));
  for (const cycle of findCycles(nodes)) {
    const first = nodes.find((s) => s.name === cycle[0]);
    b.problems.push({ path: 'steps', message: `dependency cycle: ${cycle.join(' -> ')}`, place: first?.place ?? b.v.place(['steps']) });
  }
}
