// Validated file → immutable Dag. Like Dagu's builder (anchors.md §2) this is a table of
// (field, build function) run in order, every entry runs and every problem is collected, each
// placed on the value it is about. Variables are evaluated here as Dagu does at load time:
// params, then env, then dotenv (dagu-behavior.md §2.1); step env stays unevaluated.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { constants as osConstants, homedir } from 'node:os';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { configChecksFor } from '../executors/contract.js';
import { chainLookups, expand, type Lookup } from '../common/expand.js';
import { findCycles } from './graph.js';
import type { DagSource, KeyPath } from './load.js';
import type {
  Command,
  ContinueOn,
  Dag,
  EnvList,
  Handlers,
  Params,
  Precondition,
  RetryPolicy,
  Step,
  StepExecutor,
} from './model.js';
import { formatPath, type Locate, type Problem } from '../common/problem.js';
import { buildRegistryAuths } from './registry-auths.js';
import type { DagFile, EnvFile, ParamsFile, PreconditionsFile, StepFile } from './schema.js';
import { isObject, type Path, type Validated } from './validate.js';

export interface BuildOptions {
  /** CLI parameters: positional values or `NAME=value`, overriding the file's by position or name. */
  params?: string[];
  /** The process environment (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_MAX_OUTPUT_SIZE = 1024 * 1024;
const DEFAULT_MAX_CLEANUP_SEC = 5;
const MAX_STEP_NAME_LENGTH = 40;
const NAME_PARAM = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** The mutable state the builder table fills in. */
interface Build {
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

type Builder = (b: Build) => void;

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
    dag: emptyDag(file, fileDir),
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

/** Params: the file's defaults, overridden by the CLI's, then evaluated in order (§2.1). */
function buildParams(b: Build): void {
  interface Param {
    name?: string;
    value: string;
    path: Path;
    /** CLI values are used as given: the user's shell already had its turn. */
    literal: boolean;
  }
  const params: Param[] = [];
  const raw = b.data.params as ParamsFile | undefined;
  const fromText = (text: string, path: Path) => {
    const tokens = splitParams(text);
    if (tokens === undefined) {
      b.problems.push(b.v.problem(path, 'params has an unterminated quote'));
      return;
    }
    for (const token of tokens) {
      const m = NAME_PARAM.exec(token);
      params.push(m ? { name: m[1]!, value: m[2]!, path, literal: false } : { value: token, path, literal: false });
    }
  };
  if (typeof raw === 'string') fromText(raw, ['params']);
  else if (Array.isArray(raw)) {
    raw.forEach((item, i) => {
      if (typeof item === 'string') fromText(item, ['params', i]);
      else if (isObject(item)) {
        for (const [name, value] of Object.entries(item)) params.push({ name, value: scalarText(b, ['params', i, name], value), path: ['params', i, name], literal: false });
      } else params.push({ value: scalarText(b, ['params', i], item), path: ['params', i], literal: false });
    });
  } else if (isObject(raw)) {
    for (const [name, value] of Object.entries(raw)) params.push({ name, value: scalarText(b, ['params', name], value), path: ['params', name], literal: false });
  }

  let position = 0;
  for (const arg of b.cliParams) {
    const m = NAME_PARAM.exec(arg);
    if (m) {
      const existing = params.find((p) => p.name === m[1]);
      if (existing) Object.assign(existing, { value: m[2]!, literal: true });
      else params.push({ name: m[1]!, value: m[2]!, path: ['params'], literal: true });
    } else {
      const positional = params.filter((p) => p.name === undefined);
      const existing = positional[position];
      if (existing) Object.assign(existing, { value: arg, literal: true });
      else params.push({ value: arg, path: ['params'], literal: true });
      position++;
    }
  }

  const scope: Record<string, string> = {};
  const positional: string[] = [];
  const named: Array<[string, string]> = [];
  for (const p of params) {
    const value = p.literal
      ? p.value
      : evaluate(b, p.path, p.value, chainLookups(scope, b.processEnv), { ...b.processEnv, ...scope });
    if (p.name === undefined) {
      positional.push(value);
      scope[String(positional.length)] = value;
    } else {
      named.push([p.name, value]);
      scope[p.name] = value;
    }
  }
  b.dag.params = { positional, named } satisfies Params;
  b.paramScope = scope;
}

/** `"a b k=v"`: split on unquoted whitespace; double quotes group (and are removed), backticks group (and stay). */
export function splitParams(text: string): string[] | undefined {
  const tokens: string[] = [];
  let current = '';
  let inToken = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
      continue;
    }
    inToken = true;
    if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && (text[j + 1] === '"' || text[j + 1] === '\\')) j++;
        current += text[j];
      }
      if (j >= text.length) return undefined;
      i = j;
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) return undefined;
      current += text.slice(i, end + 1);
      i = end;
    } else current += c;
  }
  if (inToken) tokens.push(current);
  return tokens;
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

/** Only the first dotenv candidate that exists is read; its entries go after `env:` and win. */
function buildDotenv(b: Build): void {
  const raw = b.data.dotenv;
  const names: Array<{ name: string; path: Path }> =
    raw === undefined
      ? [{ name: '.env', path: [] }]
      : typeof raw === 'string'
        ? [{ name: raw, path: ['dotenv'] }]
        : raw.map((name, i) => ({ name, path: ['dotenv', i] }));
  for (const { name, path } of names) {
    if (name.trim() === '') continue;
    const expanded = evaluate(b, path, name.trim(), dagLookup(b), undefined);
    const home = expandHome(expanded, b.processEnv);
    const candidates = isAbsolute(home) ? [home] : [resolve(b.dag.dir, home), resolve(b.fileDir, home)];
    const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
    if (!found) continue;
    const scope: Record<string, string> = Object.fromEntries(b.dag.env);
    const parsed = parseDotenv(readFileSync(found, 'utf8'));
    for (const problem of parsed.problems) {
      b.problems.push({ path: formatPath(b.v.original(path)), message: `dotenv ${found}: ${problem.message}`, place: { file: found, line: problem.line, col: 1 } });
    }
    const added: Array<[string, string]> = [];
    for (const entry of parsed.entries) {
      const value = entry.expand ? expand(entry.value, chainLookups(scope, b.paramScope, b.processEnv)) : entry.value;
      added.push([entry.name, value]);
      scope[entry.name] = value;
    }
    b.dag.env = [...b.dag.env, ...added];
    return;
  }
}

interface DotenvEntry {
  name: string;
  value: string;
  /** Single-quoted values are literal; others may refer to `${VAR}`. */
  expand: boolean;
}

/** A small `.env` reader: `KEY=value`, `export KEY=value`, quotes, `#` comments. */
export function parseDotenv(text: string): { entries: DotenvEntry[]; problems: Array<{ line: number; message: string }> } {
  const entries: DotenvEntry[] = [];
  const problems: Array<{ line: number; message: string }> = [];
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      problems.push({ line: i + 1, message: `line ${i + 1} is not KEY=value` });
      return;
    }
    const name = m[1]!;
    const rest = m[2]!;
    if (rest.startsWith('"')) {
      let value = '';
      let j = 1;
      for (; j < rest.length && rest[j] !== '"'; j++) {
        if (rest[j] === '\\' && j + 1 < rest.length) {
          j++;
          const e = rest[j]!;
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
        } else value += rest[j];
      }
      if (j >= rest.length) problems.push({ line: i + 1, message: `line ${i + 1} has an unterminated quote` });
      entries.push({ name, value, expand: true });
    } else if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) problems.push({ line: i + 1, message: `line ${i + 1} has an unterminated quote` });
      entries.push({ name, value: rest.slice(1, end < 0 ? undefined : end), expand: false });
    } else {
      const comment = rest.search(/\s#/);
      entries.push({ name, value: (comment >= 0 ? rest.slice(0, comment) : rest).trim(), expand: true });
    }
  });
  return { entries, problems };
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
  // Seed-era Dagu expands these with its process environment, which already holds the DAG env.
  const lookup = chainLookups(Object.fromEntries(b.dag.env), b.processEnv);
  const { value, problems } = buildRegistryAuths(b.data.registryAuths, relativeLocate(b, ['registryAuths']), {
    lookup,
    path: formatPath(b.v.original(['registryAuths'])),
  });
  b.problems.push(...problems);
  if (value) b.dag.registryAuths = value;
}

// ---------------------------------------------------------------------------------------------
// Steps

interface StepEntry {
  raw: StepFile;
  /** Canonical path of the step (a list item, a group member, or a map entry). */
  path: Path;
  /** The step was written as a bare string (`- echo hi`). */
  shorthand: boolean;
  /** Index of the top-level list item it belongs to (list form only). */
  item?: number;
  mapKey?: string;
  /** 1-based position in file order, counting every list member (for generated names). */
  position: number;
  name: string;
}

function buildSteps(b: Build): void {
  const steps = b.data.steps;
  if (steps === undefined) {
    if (!b.v.pruned(['steps'])) b.problems.push(b.v.problem([], 'at least one step must be specified'));
    return;
  }
  const entries: StepEntry[] = [];
  const listForm = Array.isArray(steps);
  let position = 0;
  if (listForm) {
    steps.forEach((item, i) => {
      const members = Array.isArray(item) ? item.map((m, j) => [m, ['steps', i, j]] as const) : [[item, ['steps', i]] as const];
      for (const [m, path] of members) {
        position++;
        if (m === null || m === undefined) continue; // invalid, already reported
        entries.push({ raw: typeof m === 'string' ? { command: m } : m, path: [...path], shorthand: typeof m === 'string', item: i, position, name: '' });
      }
    });
  } else {
    for (const [key, raw] of Object.entries(steps)) entries.push({ raw, path: ['steps', key], shorthand: false, mapKey: key, position: ++position, name: '' });
  }
  if (entries.length === 0 && !b.v.pruned(['steps'])) b.problems.push(b.v.problem(['steps'], 'at least one step must be specified'));

  assignNames(b, entries);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const idToName = new Map<string, string>();
  for (const e of entries) {
    const id = e.raw.id;
    if (id === undefined) continue;
    if (idToName.has(id)) b.problems.push(b.v.problem([...e.path, 'id'], `step id must be unique: ${id}`));
    else if (byName.has(id) && byName.get(id) !== e) b.problems.push(b.v.problem([...e.path, 'id'], `step id conflicts with another step's name: ${id}`));
    else idToName.set(id, e.name);
  }

  // Implicit chain edges: a list item waits for the whole item before it (§1.4).
  const implicit = new Map<StepEntry, string[]>();
  if (listForm && b.dag.type === 'chain') {
    const itemNames = new Map<number, string[]>();
    for (const e of entries) itemNames.set(e.item!, [...(itemNames.get(e.item!) ?? []), e.name]);
    const order = [...itemNames.keys()].sort((x, y) => x - y);
    for (const e of entries) {
      const before = order.filter((i) => i < e.item!).at(-1);
      const optedOut = Array.isArray(e.raw.depends) && e.raw.depends.length === 0;
      implicit.set(e, before === undefined || optedOut ? [] : itemNames.get(before)!);
    }
  }

  b.dag.steps = entries.map((e) => {
    const step = buildStep(b, e);
    const declared = resolveDepends(b, e, byName, idToName);
    step.depends = [...new Set([...(implicit.get(e) ?? []), ...declared])];
    return step;
  });
}

function assignNames(b: Build, entries: StepEntry[]): void {
  const taken = new Set<string>();
  for (const e of entries) {
    const explicit = e.raw.name?.trim() || e.mapKey?.trim();
    if (!explicit) continue;
    e.name = explicit;
    const namePath = e.raw.name?.trim() ? [...e.path, 'name'] : e.path;
    if (taken.has(explicit)) b.problems.push(b.v.problem(namePath, `step name must be unique: ${explicit}`));
    if (explicit.length >= MAX_STEP_NAME_LENGTH) b.problems.push(b.v.problem(namePath, `step name must be less than ${MAX_STEP_NAME_LENGTH} characters: ${explicit}`));
    taken.add(explicit);
  }
  const hasContainer = b.data.container !== undefined;
  entries.forEach((e) => {
    if (e.name) return;
    const kind = executorKind(e.raw);
    const prefix = kind === 'docker' ? (hasContainer ? 'container' : 'docker') : kind === undefined && hasContainer ? 'container' : 'cmd';
    let n = e.position;
    while (taken.has(`${prefix}_${n}`)) n++;
    e.name = `${prefix}_${n}`;
    taken.add(e.name);
  });
}

function resolveDepends(b: Build, e: StepEntry, byName: Map<string, StepEntry>, idToName: Map<string, string>): string[] {
  const raw = e.raw.depends;
  const list: Array<[string, Path]> = raw === undefined ? [] : typeof raw === 'string' ? [[raw, [...e.path, 'depends']]] : raw.map((d, i) => [d, [...e.path, 'depends', i]]);
  const out: string[] = [];
  for (const [dep, path] of list) {
    const name = dep.trim();
    if (name === '') continue;
    const target = byName.has(name) ? name : idToName.get(name);
    if (target === undefined) b.problems.push(b.v.problem(path, `step ${e.name} depends on non-existent step ${name}`));
    else out.push(target);
  }
  return out;
}

/** The step-level builder table. */
const STEP_BUILDERS: Array<[field: string, build: (b: Build, e: StepEntry, step: Step) => void]> = [
  ['id', (_b, e, s) => e.raw.id !== undefined && (s.id = e.raw.id)],
  ['description', (_b, e, s) => e.raw.description !== undefined && (s.description = e.raw.description)],
  ['command', buildCommand],
  ['shell', (b, e, s) => {
    const shell = (e.raw.shell ?? b.data.shell)?.trim();
    if (shell) s.shell = shell;
  }],
  ['workingDir', buildStepDir],
  ['env', (b, e, s) => (s.env = envEntries(b, [...e.path, 'env'], e.raw.env as EnvFile | undefined).map(({ name, value }) => [name, value] as const))],
  ['continueOn', buildContinueOn],
  ['retryPolicy', buildRetryPolicy],
  ['timeoutSec', (_b, e, s) => e.raw.timeoutSec !== undefined && (s.timeoutSec = e.raw.timeoutSec)],
  ['preconditions', (b, e, s) => (s.preconditions = buildPreconditions(b, e.path, e.raw))],
  ['output', buildOutput],
  ['signalOnStop', buildSignalOnStop],
  ['executor', buildExecutor],
];

function buildStep(b: Build, e: StepEntry): Step {
  const step: Step = {
    name: e.name,
    dir: b.dag.dir,
    env: [],
    depends: [],
    continueOn: { failure: false, skipped: false, exitCodes: [], output: [], markSuccess: false },
    preconditions: [],
    executor: { type: 'local' },
    place: b.v.place(e.path),
  };
  for (const [, build] of STEP_BUILDERS) build(b, e, step);
  return step;
}

function buildCommand(b: Build, e: StepEntry, step: Step): void {
  const { command, script } = e.raw;
  const commandPath = e.shorthand ? e.path : [...e.path, 'command'];
  if (command !== undefined && script !== undefined) {
    b.problems.push(b.v.problem([...e.path, 'script'], 'step has both command and script; use one of them'));
    return;
  }
  let built: Command | undefined;
  if (typeof command === 'string') {
    // skiff differs from Dagu: a string is shell form, multi-line ones included (they stay a script).
    const text = command.trim();
    if (text === '') b.problems.push(b.v.problem(commandPath, 'step command is empty'));
    else built = { form: 'shell', script: text };
  } else if (Array.isArray(command)) {
    const argv = command.map((v) => String(v).trim());
    if (argv.length === 0 || argv[0] === '') b.problems.push(b.v.problem(commandPath, 'step command is empty'));
    else built = { form: 'exec', argv };
  } else if (script !== undefined) {
    if (script.trim() === '') b.problems.push(b.v.problem([...e.path, 'script'], 'step script is empty'));
    else built = { form: 'shell', script };
  }
  if (built) step.command = built;
  else if (
    command === undefined &&
    script === undefined &&
    executorKind(e.raw) !== 'docker' &&
    (executorKind(e.raw) !== undefined || b.data.container === undefined) &&
    // Not when the command or executor was dropped for a problem already reported.
    !b.v.pruned([...e.path, 'command']) &&
    !b.v.pruned([...e.path, 'executor'])
  ) {
    // A local step with nothing to run (a container step may run its image's default command).
    b.problems.push(b.v.problem(e.path, 'step command is required'));
  }
}

function buildStepDir(b: Build, e: StepEntry, step: Step): void {
  const raw = e.raw.workingDir ?? e.raw.dir;
  if (raw === undefined || raw.trim() === '') return;
  const path = [...e.path, e.raw.workingDir !== undefined ? 'workingDir' : 'dir'];
  step.dir = resolvePath(b.dag.dir, evaluate(b, path, raw.trim(), dagLookup(b), undefined), b.processEnv);
}

function buildContinueOn(b: Build, e: StepEntry, step: Step): void {
  const raw = e.raw.continueOn;
  const c: ContinueOn = step.continueOn;
  if (typeof raw === 'string') {
    const v = raw.trim().toLowerCase();
    if (v === 'failed') c.failure = true;
    else if (v === 'skipped') c.skipped = true;
    else b.problems.push(b.v.problem([...e.path, 'continueOn'], `invalid continueOn value: ${raw} (must be failed or skipped)`));
  } else if (raw !== undefined) {
    c.failure = raw.failure ?? false;
    c.skipped = raw.skipped ?? false;
    c.markSuccess = raw.markSuccess ?? false;
    c.exitCodes = raw.exitCode === undefined ? [] : typeof raw.exitCode === 'number' ? [raw.exitCode] : [...raw.exitCode];
    c.output = raw.output === undefined ? [] : typeof raw.output === 'string' ? [raw.output] : [...raw.output];
  }
}

function buildRetryPolicy(_b: Build, e: StepEntry, step: Step): void {
  const raw = e.raw.retryPolicy;
  if (raw === undefined) return;
  const numberOrText = (v: number | string): number | string => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v);
  const policy: RetryPolicy = {
    limit: numberOrText(raw.limit),
    intervalSec: numberOrText(raw.intervalSec),
    exitCodes: raw.exitCode === undefined ? [] : typeof raw.exitCode === 'number' ? [raw.exitCode] : [...raw.exitCode],
    // The schema already refused a number <= 1 (§1.7).
    backoff: raw.backoff === true ? 2 : typeof raw.backoff === 'number' ? raw.backoff : 1,
  };
  if (raw.maxIntervalSec !== undefined) policy.maxIntervalSec = raw.maxIntervalSec;
  step.retryPolicy = policy;
}

function buildOutput(b: Build, e: StepEntry, step: Step): void {
  const raw = e.raw.output;
  if (raw === undefined) return;
  const name = raw.trim().replace(/^\$/, '');
  if (name === '') b.problems.push(b.v.problem([...e.path, 'output'], 'step output name is empty'));
  else step.output = name;
}

function buildSignalOnStop(b: Build, e: StepEntry, step: Step): void {
  const raw = e.raw.signalOnStop;
  if (raw === undefined) return;
  const signal = raw.trim();
  if (!Object.hasOwn(osConstants.signals, signal)) {
    b.problems.push(b.v.problem([...e.path, 'signalOnStop'], `invalid signalOnStop: ${raw} (must be a signal name such as SIGTERM)`));
  } else step.signalOnStop = signal;
}

const DOCKER_TYPES = new Set(['docker', 'container']);
const LOCAL_TYPES = new Set(['', 'shell', 'command', 'local']);

/** `docker`, `local`, `undefined` (no executor written) or the unsupported type name prefixed by `?`. */
function executorKind(raw: StepFile): 'docker' | 'local' | `?${string}` | undefined {
  const ex = raw.executor;
  if (ex === undefined) return undefined;
  // Build runs on invalid input too (validation's problems are reported with build's), so a
  // non-string type (`!!binary`, a number) must not crash here: validation has named its place.
  const rawType: unknown = typeof ex === 'string' ? ex : typeof ex === 'object' && ex !== null ? (ex as { type?: unknown }).type : undefined;
  if (typeof rawType !== 'string') return undefined;
  const type = rawType.trim().toLowerCase();
  if (type === '') return undefined;
  if (DOCKER_TYPES.has(type)) return 'docker';
  if (LOCAL_TYPES.has(type)) return 'local';
  return `?${type}`;
}

function buildExecutor(b: Build, e: StepEntry, step: Step): void {
  const raw = e.raw.executor;
  const kind = executorKind(e.raw);
  const exPath = [...e.path, 'executor'];
  const hasContainer = b.data.container !== undefined;
  let executor: StepExecutor = { type: 'local' };
  if (kind === undefined) {
    // With a DAG-level container every step without an executor runs in it (§4.8).
    if (hasContainer) executor = { type: 'docker', config: undefined, place: step.place };
  } else if (kind.startsWith('?')) {
    const typePath = typeof raw === 'string' ? exPath : [...exPath, 'type'];
    b.problems.push(b.v.problem(typePath, `unsupported executor type: ${kind.slice(1)} (supported: docker, container, command, shell, local)`));
  } else if (kind === 'docker') {
    const config = typeof raw === 'object' ? (raw.config as Record<string, unknown> | undefined) : undefined;
    if (hasContainer) {
      // Seed era: the step execs in the DAG-level container and its config is ignored (§4.8).
      executor = { type: 'docker', config: undefined, place: b.v.place(exPath) };
    } else if (config === undefined) {
      if (!b.v.pruned([...exPath, 'config'])) b.problems.push(b.v.problem(exPath, 'executor config is required'));
    } else {
      const configPath = [...exPath, 'config'];
      const checks = configChecksFor('docker');
      b.problems.push(...checks.checkStepConfig(config, relativeLocate(b, configPath), { path: formatPath(b.v.original(configPath)) }));
      executor = { type: 'docker', config, place: b.v.place(configPath) };
    }
  }
  step.executor = executor;
}

// ---------------------------------------------------------------------------------------------
// Handlers and the graph

const HANDLERS: Array<[key: 'success' | 'failure' | 'cancel' | 'abort' | 'exit', slot: keyof Handlers, name: string]> = [
  ['success', 'success', 'onSuccess'],
  ['failure', 'failure', 'onFailure'],
  ['cancel', 'cancel', 'onCancel'],
  ['abort', 'cancel', 'onCancel'],
  ['exit', 'exit', 'onExit'],
];

function buildHandlers(b: Build): void {
  const raw = b.data.handlerOn;
  if (raw === undefined) return;
  if (raw.cancel !== undefined && raw.abort !== undefined) {
    b.problems.push(b.v.problem(['handlerOn', 'abort'], 'handlerOn has both cancel and abort (abort is an alias of cancel)', { key: true }));
  }
  for (const [key, slot, defaultName] of HANDLERS) {
    const stepRaw = raw[key];
    if (stepRaw === undefined || b.dag.handlerOn[slot] !== undefined) continue;
    const path: Path = ['handlerOn', key];
    const entry: StepEntry = { raw: stepRaw, path, shorthand: false, position: 0, name: stepRaw.name?.trim() || defaultName };
    if (entry.name.length >= MAX_STEP_NAME_LENGTH) b.problems.push(b.v.problem([...path, 'name'], `step name must be less than ${MAX_STEP_NAME_LENGTH} characters: ${entry.name}`));
    if (stepRaw.depends !== undefined) b.problems.push(b.v.problem([...path, 'depends'], `handler ${entry.name} cannot have depends`, { key: true }));
    b.dag.handlerOn[slot] = buildStep(b, entry);
  }
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

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** `env:` as ordered entries with their canonical paths; values are text, not yet evaluated. */
function envEntries(b: Build, base: Path, raw: EnvFile | undefined): Array<{ name: string; value: string; path: Path }> {
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
function scalarText(b: Build, path: KeyPath, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return b.source.scalarText(b.v.original(path)) ?? String(value);
}

function buildPreconditions(b: Build, base: Path, raw: { preconditions?: PreconditionsFile; precondition?: PreconditionsFile }): Precondition[] {
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

/** Expand `${VAR}` (and backticks when `commandEnv` is given); a failed substitution is a problem. */
function evaluate(b: Build, path: KeyPath, text: string, lookup: Lookup, commandEnv: NodeJS.ProcessEnv | undefined): string {
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
function dagLookup(b: Build): Lookup {
  return chainLookups(b.paramScope, Object.fromEntries(b.dag.env), b.processEnv);
}

function relativeLocate(b: Build, canon: Path): Locate {
  const base = b.v.original(canon);
  return (path) => b.source.locate([...base, ...path]);
}

function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path === '~' || path.startsWith('~/')) return (env.HOME || homedir()) + path.slice(1);
  return path;
}

function resolvePath(base: string, path: string, env: NodeJS.ProcessEnv): string {
  return resolve(base, expandHome(path, env));
}
