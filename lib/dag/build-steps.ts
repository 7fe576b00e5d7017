// Steps and handlers: names, ids and depends (with a chain's implicit edges), then each step's
// fields through the step builder table. An executor's config is checked by that executor,
// reached through the executor contract.
import { constants as osConstants } from 'node:os';
import { formatPath } from '../common/problem.js';
import { configChecksFor } from '../executors/contract.js';
import { MAX_STEP_NAME_LENGTH, buildPreconditions, dagLookup, envEntries, evaluate, relativeLocate, resolvePath, type Build } from './build-context.js';
import type { Command, ContinueOn, Handlers, RetryPolicy, Step, StepExecutor } from '../common/model.js';
import type { EnvFile, StepFile } from './schema.js';
import type { Path } from './validate.js';

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

export function buildSteps(b: Build): void {
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
    // Entries come in item order, so the item before each one is known in one pass (a file of
    // 100 000 steps must validate in about the time it takes to read).
    const itemNames = new Map<number, string[]>();
    for (const e of entries) {
      const names = itemNames.get(e.item!);
      if (names) names.push(e.name);
      else itemNames.set(e.item!, [e.name]);
    }
    const previous = new Map<number, number | undefined>();
    let last: number | undefined;
    for (const item of itemNames.keys()) {
      previous.set(item, last);
      last = item;
    }
    for (const e of entries) {
      const before = previous.get(e.item!);
      const optedOut = Array.isArray(e.raw.depends) && e.raw.depends.length === 0;
      implicit.set(e, before === undefined || optedOut ? [] : itemNames.get(before)!);
    }
  }

  b.dag.steps = entries.map((e) => {
    const step = buildStep(b, e);
    const declared = resolveDepends(b, e, byName, idToName);
    step.depends = unique([...(implicit.get(e) ?? []), ...declared]);
    return step;
  });
}

/** First occurrences, in order; a step's few names need no set. */
function unique(names: string[]): string[] {
  return names.length <= 8 ? names.filter((n, i) => names.indexOf(n) === i) : [...new Set(names)];
}

function assignNames(b: Build, entries: StepEntry[]): void {
  const taken = new Set<string>();
  for (const e of entries) {
    const explicit = e.raw.name?.trim() || e.mapKey?.trim();
    if (!explicit) continue;
    e.name = explicit;
    const namePath = () => (e.raw.name?.trim() ? [...e.path, 'name'] : e.path);
    if (taken.has(explicit)) b.problems.push(b.v.problem(namePath(), `step name must be unique: ${explicit}`));
    if (explicit.length >= MAX_STEP_NAME_LENGTH) b.problems.push(b.v.problem(namePath(), `step name must be less than ${MAX_STEP_NAME_LENGTH} characters: ${explicit}`));
    taken.add(explicit);
  }
  const hasContainer = b.data.container !== undefined;
  entries.forEach((e) => {
    if (e.name) return;
    const kind = executorKind(e.raw);
    const prefix = kind === 'docker' ? (hasContainer ? 'container' : 'docker') : kind === 'swarm' ? 'swarm' : kind === undefined && hasContainer ? 'container' : 'cmd';
    let n = e.position;
    while (taken.has(`${prefix}_${n}`)) n++;
    e.name = `${prefix}_${n}`;
    taken.add(e.name);
  });
}

function resolveDepends(b: Build, e: StepEntry, byName: Map<string, StepEntry>, idToName: Map<string, string>): string[] {
  const raw = e.raw.depends;
  const list = raw === undefined ? [] : typeof raw === 'string' ? [raw] : raw;
  const out: string[] = [];
  list.forEach((dep, i) => {
    const name = dep.trim();
    if (name === '') return;
    const target = byName.has(name) ? name : idToName.get(name);
    if (target !== undefined) out.push(target);
    else {
      const path = typeof raw === 'string' ? [...e.path, 'depends'] : [...e.path, 'depends', i];
      b.problems.push(b.v.problem(path, `step ${e.name} depends on non-existent step ${name}`));
    }
  });
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
    executorKind(e.raw) !== 'swarm' &&
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

/** `docker`, `swarm`, `local`, `undefined` (no executor written) or the unsupported type name prefixed by `?`. */
function executorKind(raw: StepFile): 'docker' | 'swarm' | 'local' | `?${string}` | undefined {
  const ex = raw.executor;
  if (ex === undefined) return undefined;
  // Build runs on invalid input too (validation's problems are reported with build's), so a
  // non-string type (`!!binary`, a number) must not crash here: validation has named its place.
  const rawType: unknown = typeof ex === 'string' ? ex : typeof ex === 'object' && ex !== null ? (ex as { type?: unknown }).type : undefined;
  if (typeof rawType !== 'string') return undefined;
  const type = rawType.trim().toLowerCase();
  if (type === '') return undefined;
  if (DOCKER_TYPES.has(type)) return 'docker';
  if (type === 'swarm') return 'swarm';
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
    b.problems.push(b.v.problem(typePath, `unsupported executor type: ${kind.slice(1)} (supported: docker, container, swarm, command, shell, local)`));
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
  } else if (kind === 'swarm') {
    const config = typeof raw === 'object' ? (raw.config as Record<string, unknown> | undefined) : undefined;
    const configPath = [...exPath, 'config'];
    if (hasContainer) {
      // The DAG-level container is one container on one engine; a service cannot run in it.
      b.problems.push(b.v.problem(typeof raw === 'string' ? exPath : [...exPath, 'type'], 'a swarm step cannot run in the DAG-level container (container: is docker-only): remove the container block, or use a docker step'));
    } else if (config === undefined) {
      if (!b.v.pruned(configPath)) b.problems.push(b.v.problem(exPath, 'executor config is required (a swarm step needs at least an image)'));
    } else {
      const checks = configChecksFor('swarm');
      b.problems.push(...checks.checkStepConfig(config, relativeLocate(b, configPath), { path: formatPath(b.v.original(configPath)) }));
      executor = { type: 'swarm', config, place: b.v.place(configPath) };
    }
  }
  step.executor = executor;
}

// Handlers: steps of their own, run after the others (§1.10).

const HANDLERS: Array<[key: 'success' | 'failure' | 'cancel' | 'abort' | 'exit', slot: keyof Handlers, name: string]> = [
  ['success', 'success', 'onSuccess'],
  ['failure', 'failure', 'onFailure'],
  ['cancel', 'cancel', 'onCancel'],
  ['abort', 'cancel', 'onCancel'],
  ['exit', 'exit', 'onExit'],
];

export function buildHandlers(b: Build): void {
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
