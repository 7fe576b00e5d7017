// The Docker parts of a Dagu 2.x step and DAG, in the 1.2x shape the docker executor checks: the
// `with:` of `docker.run`/`container.run` (and skiff's `swarm.run`: docs/dagu-dialects.md §2), a step-level `container:`
// (its own container, removed unless kept), and the DAG-level `container:` block.
import { isObject } from '../validate.js';
import type { Emit, Json, Path } from './emit.js';
import { freshShells } from './shell.js';
import { camelOf, isCamel, snakeOf } from './spelling.js';

const CONTAINER_KEYS = new Set([
  'name', 'image', 'pull_policy', 'env', 'volumes', 'user', 'working_dir', 'platform', 'ports', 'network',
  'keep_container', 'startup', 'command', 'wait_for', 'log_pattern', 'restart_policy',
]);
const CONTAINER_KEYS_UNSUPPORTED = new Set(['exec', 'healthcheck', 'shell']);
const STEP_CONTAINER_KEYS = new Set(['exec', 'name', 'image', 'pull_policy', 'env', 'volumes', 'user', 'working_dir', 'platform', 'network', 'keep_container']);
const STEP_CONTAINER_UNSUPPORTED = new Set(['ports', 'startup', 'command', 'wait_for', 'log_pattern', 'restart_policy', 'healthcheck', 'shell']);
const STEP_CONTAINER_NOT_WITH_EXEC = ['name', 'pull_policy', 'volumes', 'ports', 'network', 'platform', 'startup', 'command', 'wait_for', 'log_pattern', 'restart_policy', 'keep_container', 'healthcheck'];
/** `with:` keys of `docker.run`/`container.run` → the docker executor's config keys. */
export const DOCKER_WITH_KEYS = new Map([
  ['image', 'image'], ['container_name', 'containerName'], ['pull', 'pull'], ['auto_remove', 'autoRemove'],
  ['platform', 'platform'], ['container', 'container'], ['host', 'host'], ['network', 'network'], ['exec', 'exec'],
]);

/** `with:` keys of `swarm.run` (skiff's own action) → the swarm executor's config keys. */
export const SWARM_WITH_KEYS = new Map([
  ['image', 'image'], ['pull', 'pull'], ['platform', 'platform'], ['container', 'container'], ['host', 'host'],
  ['resources', 'resources'], ['placement', 'placement'], ['replicas', 'replicas'], ['max_concurrent', 'maxConcurrent'],
]);

/**
 * `with:` of a step that runs in a container (`docker.run`, `container.run`, `swarm.run`) → the
 * 1.2x `executor.config` (camelCase top level, same blocks) of the executor `keys` belong to.
 */
export function dockerWith(emit: Emit, out: Json, executor: Json, w: unknown, withPath: Path, keys: ReadonlyMap<string, string> = DOCKER_WITH_KEYS): void {
  if (!isObject(w)) {
    emit.set(executor, 'config', w, withPath);
    return;
  }
  const config: Json = {};
  let workingDir: unknown;
  let volumes: unknown;
  for (const [key, value] of Object.entries(w)) {
    const at = [...withPath, key];
    const mapped = keys.get(key);
    if (mapped) emit.set(config, mapped, value, at);
    else if (key === 'command') emit.set(out, 'command', Array.isArray(value) ? freshShells(value.map(String)) : value, at);
    else if (key === 'working_dir') workingDir = value;
    else if (key === 'volumes') volumes = value;
    else if (key === 'shell') checkContainerShell(emit, value, at);
    else if (isCamel(key) && keys.has(snakeOf(key))) emit.invalidKey('with', withPath, key, keys);
    else emit.set(config, key, value, at); // the executor's config checker names it
  }
  if (workingDir !== undefined) {
    const container = isObject(config.container) ? { ...config.container } : {};
    if (!Object.keys(container).some((k) => k.toLowerCase() === 'workingdir')) container.WorkingDir = workingDir;
    emit.set(config, 'container', container, [...withPath, isObject(config.container) ? 'container' : 'working_dir']);
  }
  if (volumes !== undefined) {
    if (!Array.isArray(volumes)) emit.problem([...withPath, 'volumes'], 'with.volumes must be a list of src:dst[:mode]');
    else {
      const host = isObject(config.host) ? { ...config.host } : {};
      const bindsKey = Object.keys(host).find((k) => k.toLowerCase() === 'binds') ?? 'Binds';
      host[bindsKey] = [...(Array.isArray(host[bindsKey]) ? (host[bindsKey] as unknown[]) : []), ...volumes];
      emit.set(config, 'host', host, [...withPath, isObject(config.host) ? 'host' : 'volumes']);
    }
  }
  emit.set(executor, 'config', config, withPath);
}

/** Step-level `container:` (Dagu 2.x): its own container, removed afterwards unless kept. */
export function stepContainer(emit: Emit, out: Json, raw: unknown, at: Path): void {
  const executor: Json = { type: 'docker' };
  emit.set(out, 'executor', executor, at);
  if (typeof raw === 'string') {
    emit.set(executor, 'config', { containerName: raw }, at);
    return;
  }
  if (!isObject(raw)) {
    emit.problem(at, 'container must be a container name or a map');
    return;
  }
  for (const key of Object.keys(raw)) {
    if (STEP_CONTAINER_UNSUPPORTED.has(key)) emit.problem([...at, key], `step container ${key} is not supported by skiff (use a DAG-level container)`, true);
    else if (!STEP_CONTAINER_KEYS.has(key)) emit.invalidKey('container', at, key, STEP_CONTAINER_KEYS);
  }
  if (raw.exec !== undefined && raw.image !== undefined) return emit.problem(at, "'exec' and 'image' are mutually exclusive");
  if (raw.exec === undefined && raw.image === undefined) return emit.problem(at, "either 'exec' or 'image' must be specified");
  if (raw.exec !== undefined) {
    const bad = STEP_CONTAINER_NOT_WITH_EXEC.filter((k) => raw[k] !== undefined);
    if (bad.length > 0) return emit.problem(at, `fields [${bad.join(' ')}] cannot be used with 'exec'`);
  }
  const config: Json = {};
  const container: Json = {};
  const host: Json = {};
  const exec: Json = {};
  const inExec = raw.exec !== undefined;
  if (inExec) emit.set(config, 'containerName', raw.exec, [...at, 'exec']);
  if (raw.image !== undefined) emit.set(config, 'image', raw.image, [...at, 'image']);
  if (raw.name !== undefined) emit.set(config, 'containerName', raw.name, [...at, 'name']);
  if (raw.pull_policy !== undefined) emit.set(config, 'pull', raw.pull_policy, [...at, 'pull_policy']);
  if (raw.platform !== undefined) emit.set(config, 'platform', raw.platform, [...at, 'platform']);
  const target = inExec ? exec : container;
  if (raw.env !== undefined) target.Env = envList(raw.env);
  if (raw.user !== undefined) target.User = raw.user;
  if (raw.working_dir !== undefined) target.WorkingDir = raw.working_dir;
  if (raw.volumes !== undefined) host.Binds = raw.volumes;
  if (raw.network !== undefined) host.NetworkMode = raw.network;
  if (!inExec) emit.set(config, 'autoRemove', raw.keep_container !== true, at);
  if (Object.keys(container).length > 0) emit.set(config, 'container', container, at);
  if (Object.keys(host).length > 0) emit.set(config, 'host', host, at);
  if (Object.keys(exec).length > 0) emit.set(config, 'exec', exec, at);
  emit.set(executor, 'config', config, at);
}

export function dagContainer(emit: Emit, raw: unknown): unknown {
  if (typeof raw === 'string') {
    emit.problem(['container'], 'a DAG-level container given by name (exec mode) is not supported by skiff; give an image');
    return undefined;
  }
  if (!isObject(raw)) return raw;
  const out: Json = {};
  for (const [key, value] of Object.entries(raw)) {
    const at = ['container', key];
    if (CONTAINER_KEYS_UNSUPPORTED.has(key)) emit.unsupported(['container'], key);
    else if (!CONTAINER_KEYS.has(key)) emit.invalidKey('container', ['container'], key, CONTAINER_KEYS);
    else emit.set(out, camelOf(key), value, at);
  }
  return out;
}

function envList(env: unknown): unknown {
  if (isObject(env)) return Object.entries(env).map(([k, v]) => `${k}=${v === null ? '' : String(v)}`);
  if (Array.isArray(env)) return env.flatMap((e) => (isObject(e) ? Object.entries(e).map(([k, v]) => `${k}=${v === null ? '' : String(v)}`) : [e]));
  return env;
}

/**
 * skiff runs a container's string command with `/bin/sh -c` whatever the dialect; `with.shell`
 * naming sh (what `skiff migrate` writes, so that Dagu runs the command the same way) says so.
 */
function checkContainerShell(emit: Emit, value: unknown, at: Path): void {
  const words = (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.trim().split(/\s+/) : []).filter((w) => w !== '-c');
  if (words.length !== 1 || !/^(\/bin\/)?sh$/.test(words[0]!)) {
    emit.problem(at, `skiff runs a container's string command with /bin/sh -c; with.shell may only name sh (got ${JSON.stringify(value)})`);
  }
}
