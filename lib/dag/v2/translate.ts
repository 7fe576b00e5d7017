// Dagu 2.x file → the shape the 1.2x loader reads. Dagu does the same inside itself
// (`normalizeStepExecutionRaw` rewrites `run`/`action` steps into its legacy step shape before
// decoding), so one builder and one scheduler serve both dialects: this module checks what only
// 2.x has (strict snake_case keys, the `run`/`action` mixing rules, step ids, consts), renames
// the rest, and records where every translated value came from so problems found later are
// placed on the file as written. What the model needs beyond the 1.2x shape (the dialect, `eval`
// preconditions) is returned beside the value and applied after building (read.ts). The Docker
// parts are in containers.ts, the fields with rules of their own in fields.ts, shell text in shell.ts.
import { formatPath, type Locate, type Problem } from '../../common/problem.js';
import { isObject } from '../validate.js';
import { consts, substituteConsts } from './consts.js';
import { SWARM_WITH_KEYS, dagContainer, dockerWith, stepContainer } from './containers.js';
import type { Emit, Json, Path } from './emit.js';
import { continueOn, envNames, params, preconditions, retryPolicy } from './fields.js';
import { errexit, freshShells, viaShebang } from './shell.js';
import { camelOf, isCamel, snakeOf } from './spelling.js';


export interface Translation {
  /** The file in the 1.2x shape (camelCase keys). */
  value: Json;
  /** The path as written in the file for a path into `value`. */
  originalPath(path: ReadonlyArray<string | number>): Path;
  problems: Problem[];
  /** `eval` preconditions, by owner: `''` for the DAG, else the translated step path. */
  evals: Map<string, boolean[]>;
}

const DAG_KEYS = new Set([
  'name', 'description', 'type', 'env', 'dotenv', 'params', 'working_dir', 'steps', 'handler_on', 'max_active_steps',
  'timeout_sec', 'delay_sec', 'preconditions', 'shell', 'shell_args', 'max_output_size', 'max_clean_up_time_sec',
  'container', 'registry_auths', 'labels', 'tags', 'schedule', 'skip_if_successful', 'group', 'log_dir',
  'hist_retention_days', 'restart_wait_sec', 'max_active_runs', 'queue', 'mail_on', 'smtp', 'error_mail', 'info_mail',
  'consts',
]);
/** Dagu 2.x DAG keys skiff does not run (yet): refused by name rather than as unknown. */
const DAG_KEYS_UNSUPPORTED = new Set([
  'defaults', 'secrets', 'tools', 'artifacts', 'resources', 'actions', 'retry_policy', 'step_types', 'worker_selector',
  'otel', 'run_config', 'stop_signal', 'ssh', 'llm', 'harness', 'handoff', 'catchup_window', 'overlap_policy',
]);
const STEP_KEYS = new Set([
  'id', 'name', 'description', 'run', 'action', 'with', 'command', 'script', 'shell', 'shell_args', 'working_dir', 'env',
  'depends', 'continue_on', 'retry_policy', 'timeout_sec', 'preconditions', 'output', 'signal_on_stop', 'container',
  'type', 'config', 'exec', 'mail_on_error',
]);
const STEP_KEYS_UNSUPPORTED = new Set([
  'call', 'params', 'parallel', 'foreach', 'repeat_policy', 'stdout', 'stderr', 'log_output', 'outputs', 'output_schema',
  'worker_selector', 'approval', 'llm', 'messages', 'routes', 'value', 'shell_packages', 'inputs', 'dependencies',
]);
/** Keys `run` and `action` exclude (Dagu's list: docs/dagu-dialects.md §2). */
const EXCLUSIVE_WITH_RUN = [
  'call', 'command', 'config', 'exec', 'llm', 'messages', 'params', 'routes', 'script', 'shell', 'shell_args',
  'shell_packages', 'type', 'value',
];
const ACTIONS_RUN = new Set(['exec', 'docker.run', 'container.run', 'swarm.run', 'noop', 'log.write']);
/** Action names Dagu knows that skiff does not run; anything else is unknown to Dagu too. */
const ACTIONS_KNOWN = /^(http\.request|ssh\.run|jq\.filter|template\.render|file\.\w+|wait\.\w+|dag\.run|dag\.enqueue|outputs\.write|state\.\w+|git\.\w+|mail\.send|archive\.\w+|s3\.\w+|sftp\.\w+|postgres\.\w+|sqlite\.\w+|redis\.\w+|chat\.completion|harness\.run|human\.task|router\.route|k8s\.run|artifact\.\w+|data\.\w+)$/;
const HANDLERS = new Map([['success', 'success'], ['failure', 'failure'], ['abort', 'abort'], ['exit', 'exit']]);
const HANDLERS_UNSUPPORTED = new Set(['init', 'wait']);
const STEP_ID = /^[a-zA-Z][a-zA-Z0-9_]*$/;
const RESERVED_IDS = new Set(['env', 'params', 'args', 'stdout', 'stderr', 'output', 'outputs']);
const MAX_ID_LENGTH = 40;
const MAX_NAME_BYTES = 255;

export function translateV2(raw: Json, locate: Locate, locateKey: Locate): Translation {
  const t = new Translator(locate, locateKey);
  const value = t.dag(raw);
  return { value, originalPath: (p) => t.originalPath(value, p), problems: t.problems, evals: t.evals };
}

class Translator {
  readonly problems: Problem[] = [];
  readonly evals = new Map<string, boolean[]>();
  /** For a translated map: translated key → the path of its value in the file. */
  readonly #origins = new WeakMap<object, Map<string, Path>>();
  #consts: Record<string, string> = {};
  /** The DAG's `shell` (with `shell_args`), the default of host steps. */
  #dagShell: string | undefined;
  /** With a DAG-level container every step without an executor runs in it, not on the host. */
  #hasDagContainer = false;
  readonly #locate: Locate;
  readonly #locateKey: Locate;

  constructor(locate: Locate, locateKey: Locate) {
    this.#locate = locate;
    this.#locateKey = locateKey;
  }

  originalPath(root: Json, path: ReadonlyArray<string | number>): Path {
    let node: unknown = root;
    let orig: Path = [];
    for (const segment of path) {
      const from = node !== null && typeof node === 'object' ? this.#origins.get(node)?.get(String(segment)) : undefined;
      orig = from ? [...from] : [...orig, segment];
      node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[segment] : undefined;
    }
    return orig;
  }

  /** What the parts in other modules report through. */
  readonly #emit: Emit = {
    set: (out, key, value, from) => this.#set(out, key, value, from),
    problem: (path, message, key) => this.#problem(path, message, key),
    invalidKey: (owner, path, key, known) => this.#invalidKey(owner, path, key, known),
    unsupported: (path, key) => this.#unsupported(path, key),
  };

  /** Preconditions, remembering which are `eval` for the built model. */
  #preconditions(raw: unknown, at: Path, owner: string): unknown {
    const { value, evals } = preconditions(this.#emit, raw, at);
    if (evals.some(Boolean)) this.evals.set(owner, evals);
    return value;
  }

  #problem(path: Path, message: string, key = false): void {
    this.problems.push({ path: formatPath(path), message, place: key ? this.#locateKey(path) : this.#locate(path) });
  }

  /** Sets `out[key]`, remembering that its value came from `from` in the file. */
  #set(out: Json, key: string, value: unknown, from: Path): void {
    out[key] = value;
    let origins = this.#origins.get(out);
    if (!origins) this.#origins.set(out, (origins = new Map()));
    origins.set(key, from);
  }

  /** An unknown key: with Dagu's snake_case hint when it is a 1.2x spelling. */
  #invalidKey(owner: string, path: Path, key: string, known: ReadonlySet<string> | ReadonlyMap<string, string>): void {
    const hint = isCamel(key) && known.has(snakeOf(key)) ? `; use snake_case keys (${key} -> ${snakeOf(key)})` : '';
    this.#problem([...path, key], `${owner} has invalid keys: ${key}${hint}`, true);
  }

  #unsupported(path: Path, key: string): void {
    this.#problem([...path, key], `${key} is a Dagu 2.x field skiff does not support`, true);
  }

  dag(raw: Json): Json {
    const out: Json = {};
    if (raw.consts !== undefined) {
      const found = consts(raw.consts, ['consts']);
      for (const p of found.problems) this.#problem(p.path, p.message);
      this.#consts = found.values;
    }
    const sub = (v: unknown) => substituteConsts(v, this.#consts);
    this.#hasDagContainer = raw.container !== undefined && raw.container !== null;
    if (typeof raw.shell === 'string' || Array.isArray(raw.shell)) this.#dagShell = this.#shell(sub(raw.shell), raw.shell_args, ['shell']) as string;
    if (raw.labels !== undefined && raw.tags !== undefined) this.#problem(['tags'], 'labels and deprecated tags cannot both be set', true);
    for (const [key, value] of Object.entries(raw)) {
      const path = [key];
      if (DAG_KEYS_UNSUPPORTED.has(key)) this.#unsupported([], key);
      else if (!DAG_KEYS.has(key)) {
        if (key === 'precondition') this.#problem(path, 'DAG has invalid keys: precondition; use "preconditions"', true);
        else this.#invalidKey('DAG', [], key, DAG_KEYS);
      } else if (key === 'consts' || key === 'shell_args') {
        // consts were substituted above; shell_args join the shell below.
      } else if (key === 'steps') this.#set(out, 'steps', this.#steps(value, raw.type), path);
      else if (key === 'handler_on') this.#set(out, 'handlerOn', this.#handlers(value), path);
      else if (key === 'container') this.#set(out, 'container', dagContainer(this.#emit, sub(value)), path);
      else if (key === 'preconditions') this.#set(out, 'preconditions', this.#preconditions(sub(value), path, ''), path);
      else if (key === 'labels') this.#set(out, 'tags', value, path);
      else if (key === 'shell') this.#set(out, 'shell', this.#dagShell ?? value, path);
      else if (key === 'params') this.#set(out, 'params', params(this.#emit, value), path);
      else if (key === 'env') this.#set(out, 'env', envNames(this.#emit, sub(value), path), path);
      else if (key === 'name' || key === 'description' || key === 'type') this.#set(out, key, value, path);
      else this.#set(out, camelOf(key), sub(value), path);
    }
    // Dagu 2.7 made graph the default: steps without depends run side by side.
    if (raw.type === undefined) out.type = 'graph';
    return out;
  }

  #shell(value: unknown, args: unknown, path: Path): unknown {
    const parts: string[] = [];
    if (typeof value === 'string') parts.push(value);
    else if (Array.isArray(value)) parts.push(...value.map(String));
    else return value;
    if (Array.isArray(args)) parts.push(...args.map(String));
    else if (typeof args === 'string') parts.push(args);
    const shell = parts.join(' ').trim();
    if (/(^|\s)-[a-z]*c[a-z]*$/.test(shell) && !/(^|\s)-c$/.test(shell)) {
      this.#problem(path, `shell must end in -c or leave it out: ${shell}`);
    }
    return shell;
  }

  #steps(raw: unknown, dagType: unknown): unknown {
    if (!Array.isArray(raw)) {
      if (isObject(raw)) {
        const out: Json = {};
        for (const [name, step] of Object.entries(raw)) this.#set(out, name, this.#step(step, ['steps', name], name), ['steps', name]);
        return out;
      }
      return raw;
    }
    const chain = dagType === 'chain';
    const stepOf = (item: unknown, path: Path) => {
      if (chain && isObject(item) && Object.hasOwn(item, 'depends')) {
        this.#problem([...path, 'depends'], "depends field is not allowed for DAGs with type 'chain'; use type 'graph' for explicit dependencies", true);
      }
      return this.#step(item, path, undefined);
    };
    const out = raw.map((item, i) => (Array.isArray(item) ? item.map((m, j) => stepOf(m, ['steps', i, j])) : stepOf(item, ['steps', i])));
    this.#checkIds(raw);
    return out;
  }

  /** Dagu 2.x id and name rules (stricter than 1.2x: no hyphen, reserved words, longer names). */
  #checkIds(raw: unknown[]): void {
    const members: Array<{ step: Json; path: Path }> = [];
    raw.forEach((item, i) => {
      if (Array.isArray(item)) item.forEach((m, j) => isObject(m) && members.push({ step: m, path: ['steps', i, j] }));
      else if (isObject(item)) members.push({ step: item, path: ['steps', i] });
    });
    const ids = new Map<string, Path>();
    const names = new Map<string, Path>();
    for (const { step, path } of members) {
      const name = typeof step.name === 'string' ? step.name.trim() : typeof step.id === 'string' ? step.id.trim() : undefined;
      if (name !== undefined && Buffer.byteLength(name) > MAX_NAME_BYTES) this.#problem([...path, 'name'], `step name must be at most ${MAX_NAME_BYTES} characters`);
      if (name !== undefined) names.set(name, path);
    }
    for (const { step, path } of members) {
      if (step.id === undefined) continue;
      const at = [...path, 'id'];
      if (typeof step.id !== 'string') continue; // the schema names the type
      const id = step.id.trim();
      if (!STEP_ID.test(id)) this.#problem(at, `invalid step ID format: must match ${STEP_ID.source} (use '_' instead of '-')`);
      else if (id.length > MAX_ID_LENGTH) this.#problem(at, `step ID must be at most ${MAX_ID_LENGTH} characters`);
      else if (RESERVED_IDS.has(id.toLowerCase())) this.#problem(at, `step ID '${id}' is a reserved word`);
      else if (ids.has(id)) this.#problem(at, `duplicate step ID: ${id}`);
      else {
        const owner = names.get(id);
        if (owner && JSON.stringify(owner) !== JSON.stringify(path)) this.#problem(at, `step ID '${id}' conflicts with another step's name`);
      }
      ids.set(id, path);
    }
  }

  #handlers(raw: unknown): unknown {
    if (!isObject(raw)) return raw;
    const out: Json = {};
    for (const [key, step] of Object.entries(raw)) {
      const path = ['handler_on', key];
      const slot = HANDLERS.get(key);
      if (slot) this.#set(out, slot, this.#step(step, path, undefined), path);
      else if (HANDLERS_UNSUPPORTED.has(key)) this.#unsupported(['handler_on'], key);
      else this.#problem(path, `handler_on has invalid keys: ${key}${key === 'cancel' ? '; use abort' : ''}`, true);
    }
    return out;
  }

  /** One step: Dagu's mixing rules, then `run`/`action`/legacy forms → `command` + `executor`. */
  #step(raw: unknown, path: Path, mapKey: string | undefined): unknown {
    if (typeof raw === 'string') return { command: substituteConsts(raw, this.#consts) };
    if (!isObject(raw)) return raw;
    const out: Json = {};
    const sub = (v: unknown) => substituteConsts(v, this.#consts);
    for (const key of Object.keys(raw)) {
      if (STEP_KEYS_UNSUPPORTED.has(key)) this.#unsupported(path, key);
      else if (!STEP_KEYS.has(key)) {
        const owner = `step ${JSON.stringify(stepLabel(raw, path))}`;
        if (key === 'dir') this.#problem([...path, key], `${owner} has invalid keys: dir; use "working_dir"`, true);
        else if (key === 'precondition') this.#problem([...path, key], `${owner} has invalid keys: precondition; use "preconditions"`, true);
        else if (key === 'executor') this.#problem([...path, key], '"executor" has been removed; use "action" and pass executor options under "with"', true);
        else this.#invalidKey(owner, path, key, STEP_KEYS);
      }
    }
    // Reported and translated anyway (`run` wins, then `action`), so the step's other problems show too.
    this.#checkMixing(raw, path);

    for (const [dep, at] of dependsEntries(raw.depends, [...path, 'depends'])) {
      if (dep !== dep.trim()) this.#problem(at, `step ${stepLabel(raw, path)} depends on non-existent step ${JSON.stringify(dep)} (depends entries are matched as written)`);
    }
    for (const key of ['id', 'description', 'depends'] as const) {
      if (raw[key] === undefined || raw[key] === null) continue;
      // Dagu turns non-string depends entries into text.
      // Ids are trimmed (names are, by the builder); non-string depends entries become text.
      const value =
        key === 'depends' && Array.isArray(raw.depends) ? raw.depends.map((d) => (typeof d === 'string' ? d : String(d))) : key === 'id' && typeof raw.id === 'string' ? raw.id.trim() : raw[key];
      this.#set(out, key, value, [...path, key]);
    }
    if (raw.name !== undefined) this.#set(out, 'name', raw.name, [...path, 'name']);
    else if (typeof raw.id === 'string' && mapKey === undefined) this.#set(out, 'name', raw.id.trim(), [...path, 'id']);
    for (const key of ['working_dir', 'env', 'timeout_sec', 'output', 'signal_on_stop', 'mail_on_error'] as const) {
      if (raw[key] !== undefined) this.#set(out, camelOf(key), sub(raw[key]), [...path, key]);
    }
    if (raw.continue_on !== undefined) this.#set(out, 'continueOn', continueOn(this.#emit, raw.continue_on, [...path, 'continue_on']), [...path, 'continue_on']);
    if (raw.retry_policy !== undefined) this.#set(out, 'retryPolicy', retryPolicy(this.#emit, sub(raw.retry_policy), [...path, 'retry_policy']), [...path, 'retry_policy']);
    if (raw.preconditions !== undefined) this.#set(out, 'preconditions', this.#preconditions(sub(raw.preconditions), [...path, 'preconditions'], formatPath(path)), [...path, 'preconditions']);

    const withMap = raw.with !== undefined ? raw.with : raw.config;
    const withPath = [...path, raw.with !== undefined ? 'with' : 'config'];
    if (raw.run !== undefined) this.#run(out, sub(raw.run), sub(raw.with), path);
    else if (raw.action !== undefined) this.#action(out, raw.action as string, sub(withMap), path, withPath);
    else {
      // Legacy 2.0–2.6 forms.
      if (raw.command !== undefined) this.#set(out, 'command', sub(raw.command), [...path, 'command']);
      if (raw.script !== undefined) this.#set(out, 'script', sub(raw.script), [...path, 'script']);
      if (raw.shell !== undefined) this.#set(out, 'shell', this.#shell(sub(raw.shell), raw.shell_args, [...path, 'shell']), [...path, 'shell']);
      if (isObject(raw.exec)) this.#exec(out, sub(raw.exec) as Json, path, [...path, 'exec']);
      if (raw.type !== undefined) {
        const type = String(raw.type).trim().toLowerCase();
        const executor: Json = { type };
        this.#set(out, 'executor', executor, [...path, 'type']);
        if (withMap !== undefined) {
          if (type === 'docker' || type === 'container') dockerWith(this.#emit, out, executor, sub(withMap), withPath);
          else this.#set(executor, 'config', withMap, withPath);
        }
      }
    }
    if (raw.container !== undefined) {
      if (out.executor !== undefined) {
        const swarm = isObject(out.executor) && out.executor.type === 'swarm';
        this.#problem([...path, 'container'], swarm ? 'container cannot be used together with swarm.run: a swarm step runs a service of its own (its image goes under with)' : 'container cannot be used together with a docker action or type', true);
      }
      else stepContainer(this.#emit, out, sub(raw.container), [...path, 'container']);
    }
    this.#hostShell(out, raw, path);
    return out;
  }

  /**
   * A host step's shell text runs as Dagu 2.x runs it: `sh -e` unless the step names its shell
   * (so the first failing command fails the step), and a script whose first line is `#!` by that
   * interpreter unless the step names a shell.
   */
  #hostShell(out: Json, raw: Json, path: Path): void {
    if (out.executor !== undefined || this.#hasDagContainer || typeof out.command !== 'string') return;
    const text = out.command;
    const stepShell = typeof out.shell === 'string' && out.shell.trim() !== '' ? out.shell : undefined;
    const runPath = [...path, raw.run !== undefined ? 'run' : raw.script !== undefined ? 'script' : 'command'];
    if (stepShell === undefined && text.includes('\n') && text.startsWith('#!')) {
      this.#set(out, 'command', viaShebang(text), runPath);
      return;
    }
    const shell = stepShell ?? errexit(this.#dagShell ?? '/bin/sh');
    if (text.includes('\n') && /(^|\s)-c$/.test(shell.trim())) {
      this.#problem(stepShell ? [...path, raw.with !== undefined ? 'with' : 'shell'] : ['shell'], `a script (a run with several lines) cannot be handed to the shell with -c: ${shell.trim()}; leave -c out`);
    }
    if (stepShell === undefined) out.shell = shell;
  }

  /** Which execution keys may sit together, with Dagu's messages (docs/dagu-dialects.md §2). */
  #checkMixing(raw: Json, path: Path): void {
    const fail = (key: string, message: string) => this.#problem([...path, key], `field '${key}': ${message}`, true);
    if (raw.with !== undefined && raw.config !== undefined) fail('config', 'fields "with" and "config" cannot be used together; use "with"');
    for (const selector of ['run', 'action'] as const) {
      if (raw[selector] === undefined) continue;
      if (selector === 'run' && raw.action !== undefined) fail('action', 'run cannot be used together with action');
      for (const key of EXCLUSIVE_WITH_RUN) if (raw[key] !== undefined) fail(key, `${selector} cannot be used together with ${key}`);
    }
    if (raw.with !== undefined && !isObject(raw.with)) fail('with', 'with must be an object');
    if (raw.run !== undefined && typeof raw.run !== 'string' && !Array.isArray(raw.run)) fail('run', 'run must be a string or array');
    if (raw.run !== undefined && isObject(raw.with)) {
      for (const key of Object.keys(raw.with)) {
        if (!['shell', 'shell_args', 'shell_packages'].includes(key)) fail('with', `run only supports shell, shell_args, and shell_packages in with; got "${key}"`);
      }
      if (raw.with.shell_packages !== undefined) fail('with', 'with.shell_packages needs nix-shell, which skiff does not run');
    }
    if (raw.action !== undefined) {
      if (typeof raw.action !== 'string') fail('action', 'action must be a string');
      else if (raw.action.trim() === '') fail('action', 'action is required');
      else if (!ACTIONS_RUN.has(raw.action.trim())) {
        const name = raw.action.trim();
        if (ACTIONS_KNOWN.test(name) || name.includes('@')) fail('action', `action "${name}" is a Dagu 2.x action skiff does not run`);
        else fail('action', `unknown action "${name}"`);
      }
    }
  }

  /** `run`: a string is one command (or a script when it has a newline); a list, one shell each. */
  #run(out: Json, run: unknown, withMap: unknown, path: Path): void {
    const at = [...path, 'run'];
    if (typeof run === 'string') this.#set(out, 'command', run, at);
    else if (Array.isArray(run)) {
      const entries: string[] = [];
      run.forEach((entry, i) => {
        const text = isObject(entry) && Object.keys(entry).length === 1 ? `${Object.keys(entry)[0]}: ${String(Object.values(entry)[0])}` : entry === null || entry === undefined ? '' : String(entry);
        if (text.includes('\n')) this.#problem([...at, i], 'a run array entry must not contain a line break');
        else if (text.trim() !== '') entries.push(text);
      });
      if (entries.length === 0) this.#problem(at, 'run must have at least one non-empty command');
      else this.#set(out, 'command', freshShells(entries), at);
    }
    if (isObject(withMap) && withMap.shell !== undefined) {
      this.#set(out, 'shell', this.#shell(withMap.shell, withMap.shell_args, [...path, 'with', 'shell']), [...path, 'with', 'shell']);
    }
  }

  #action(out: Json, action: string, withMap: unknown, path: Path, withPath: Path): void {
    const name = action.trim();
    const w = isObject(withMap) ? withMap : undefined;
    if (name === 'exec') {
      this.#exec(out, w ?? {}, path, withPath);
    } else if (name === 'docker.run' || name === 'container.run') {
      const executor: Json = { type: name === 'docker.run' ? 'docker' : 'container' };
      this.#set(out, 'executor', executor, [...path, 'action']);
      if (w !== undefined) dockerWith(this.#emit, out, executor, w, withPath);
    } else if (name === 'swarm.run') {
      // skiff's own action: the swarm executor, its `with` shaped as docker.run's.
      const executor: Json = { type: 'swarm' };
      this.#set(out, 'executor', executor, [...path, 'action']);
      dockerWith(this.#emit, out, executor, w ?? withMap, withPath, SWARM_WITH_KEYS);
    } else if (name === 'noop') {
      if (withMap !== undefined) this.#problem(withPath, 'noop does not accept with', true);
      this.#set(out, 'command', ['true'], [...path, 'action']);
    } else if (name === 'log.write') {
      const message = w?.message;
      for (const key of Object.keys(w ?? {})) if (key !== 'message') this.#problem([...withPath, key], `log.write does not support with.${key}`, true);
      if (typeof message !== 'string') this.#problem(withPath, 'with.message is required');
      else this.#set(out, 'command', ['printf', message.endsWith('\n') ? '%s' : '%s\\n', message], [...withPath, 'message']);
    }
  }

  /** `exec: {command, args}`: argv as written, no shell (skiff's exec form). */
  #exec(out: Json, w: Json, path: Path, withPath: Path): void {
    for (const key of Object.keys(w)) if (key !== 'command' && key !== 'args') this.#problem([...withPath, key], `exec does not support with.${key}`, true);
    if (typeof w.command !== 'string' || w.command.trim() === '') {
      this.#problem(withPath, 'with.command must be a non-empty string');
      return;
    }
    const args = Array.isArray(w.args) ? w.args.map((a) => (a === null ? '' : String(a))) : [];
    this.#set(out, 'command', [w.command, ...args], [...withPath, 'command']);
    void path;
  }

}




function dependsEntries(raw: unknown, at: Path): Array<[string, Path]> {
  if (typeof raw === 'string') return [[raw, at]];
  if (Array.isArray(raw)) return raw.flatMap((d, i): Array<[string, Path]> => (typeof d === 'string' ? [[d, [...at, i]]] : []));
  return [];
}

function stepLabel(raw: Json, path: Path): string {
  for (const key of ['name', 'id'] as const) if (typeof raw[key] === 'string' && raw[key].trim() !== '') return raw[key].trim();
  return formatPath(path);
}

