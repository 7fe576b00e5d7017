// What a DAG needs on a host that cannot fetch anything: the images its containers are created
// from (the DAG-level container, else each docker or swarm step's `image` on its `platform`) and the files
// beside it that `pack` can see (the DAG file, its dotenv, what the user asks for with --include).
// `${VAR}` in an image is resolved as a run resolves it before any step has run: step env, params,
// DAG env, the process environment. What only a running step can know is reported, with its place.
import { readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { SkiffError, type Place } from '../common/errors.js';
import type { Dag, PullPolicy, Step } from '../common/model.js';
import { readDagSource } from '../dag/load.js';
import { chainLookups, expand, expandLeaves, type Lookup } from '../common/expand.js';
import { normalizeDockerStepConfig } from '../executors/docker/config.js';
import { normalizeSwarmStepConfig } from '../executors/swarm/config.js';
import { isDynamic } from '../executors/docker/decode.js';
import { DAG_PREFIX } from './format.js';

export interface NeededImage {
  ref: string;
  /** `os/arch[/variant]`, or undefined for the engine's own platform. */
  platform: string | undefined;
  /** Where the DAG asks for it (first place first). */
  places: Place[];
  /** Steps that use it with pull policy `always` (or the DAG-level container, as `container`). */
  pullAlways: string[];
  /** Swarm steps that run it as a service. */
  swarm: string[];
}

export interface CarriedFile {
  /** Absolute path on this machine. */
  path: string;
  /** Member name in the pack: `dag/` + the path relative to the DAG file's directory. */
  member: string;
}

export interface PackNeeds {
  images: NeededImage[];
  files: CarriedFile[];
  /** Images `pack` cannot resolve, and files it cannot carry: said, never silently dropped. */
  unknown: Array<{ message: string; place?: Place }>;
}

export interface NeedsOptions {
  /** Files or directories to carry as well (e.g. relative bind sources); relative to `cwd`. */
  include?: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function packNeeds(dag: Dag, options: NeedsOptions = {}): PackNeeds {
  const env = definedOnly(options.env ?? process.env);
  const needs: PackNeeds = { images: [], files: [], unknown: [] };
  const params = { ...Object.fromEntries(dag.params.positional.map((v, i) => [String(i + 1), v])), ...Object.fromEntries(dag.params.named) };
  const dagScope = chainLookups(params, Object.fromEntries(dag.env), env);

  const add = (ref: string, platform: string | undefined, place: Place, always: string | undefined, swarm?: string): void => {
    let image = needs.images.find((i) => i.ref === ref);
    if (image && platform !== undefined && image.platform !== undefined && image.platform !== platform) {
      throw new SkiffError('config', `image ${ref} is needed as ${image.platform} and as ${platform}: the engine keeps one platform per name, so a pack cannot carry both`, { place });
    }
    if (!image) needs.images.push((image = { ref, platform, places: [], pullAlways: [], swarm: [] }));
    image.platform ??= platform;
    image.places.push(place);
    if (always !== undefined) image.pullAlways.push(always);
    if (swarm !== undefined) image.swarm.push(swarm);
  };

  if (dag.container) {
    // Every step runs in it, docker steps included (their own image is never used).
    add(dag.container.image, dag.container.platform, dag.container.place, dag.container.pullPolicy === 'always' ? 'container' : undefined);
  } else {
    for (const step of allSteps(dag)) {
      const image = stepImage(step, dagScope, dag.dir);
      if (image === undefined) continue;
      if ('unknown' in image) needs.unknown.push({ message: image.unknown, place: image.place });
      else if (step.executor.type === 'swarm') add(image.ref, image.platform, image.place, undefined, step.name);
      else add(image.ref, image.platform, image.place, image.pull === 'always' ? step.name : undefined);
    }
  }

  const root = dirname(dag.file);
  const files = new Map<string, CarriedFile>();
  const carry = (path: string, why: string): void => {
    const rel = relative(root, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      needs.unknown.push({ message: `cannot carry ${why} ${path}: it is outside the DAG file's directory ${root}, and only that directory is unpacked on the other side` });
      return;
    }
    const member = DAG_PREFIX + rel.split(sep).join('/');
    if (!files.has(member)) files.set(member, { path, member });
  };
  carry(dag.file, 'the DAG file');
  const dotenv = dotenvFile(dag, dagScope, env);
  if (dotenv) carry(dotenv, 'the dotenv file');
  for (const item of options.include ?? []) {
    const path = resolve(options.cwd ?? process.cwd(), item);
    for (const file of walkFiles(path, item)) carry(file, '--include');
  }
  needs.files = [...files.values()];
  return needs;
}

/** The image a docker step creates its container from, or a swarm step its service; its platform and pull policy. */
function stepImage(step: Step, dagScope: Lookup, dir: string): { ref: string; platform: string | undefined; pull: PullPolicy; place: Place } | { unknown: string; place: Place } | undefined {
  const type = step.executor.type;
  if (type !== 'docker' && type !== 'swarm') return undefined;
  const normalize = type === 'swarm' ? normalizeSwarmStepConfig : normalizeDockerStepConfig;
  const place = step.executor.place;
  const stepEnv: Record<string, string> = {};
  const lookup = chainLookups(stepEnv, dagScope);
  for (const [name, value] of step.env) stepEnv[name] = expand(value, lookup);
  let config;
  try {
    config = normalize(expandLeaves(step.executor.config ?? {}, lookup), { dir });
  } catch (err) {
    return { unknown: `step "${step.name}": cannot tell which image it needs before it runs (${(err as Error).message})`, place };
  }
  // Exec into a container that is already running: no image of its own, unless one is given to
  // recreate the container from.
  if (config.image === undefined) return undefined;
  if (isDynamic(config.image) || (config.platform !== undefined && isDynamic(config.platform))) {
    return { unknown: `step "${step.name}": image ${config.image}${config.platform ? ` (platform ${config.platform})` : ''} depends on something only the run knows; pack it by naming it plainly`, place };
  }
  return { ref: config.image, platform: config.platform, pull: config.pull, place };
}

/** The dotenv file the DAG reads, found as the load finds it (the first candidate that exists). */
function dotenvFile(dag: Dag, lookup: Lookup, env: Record<string, string>): string | undefined {
  const raw = (readDagSource(dag.file).value as { dotenv?: unknown } | undefined)?.dotenv;
  const names = raw === undefined ? ['.env'] : typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((n): n is string => typeof n === 'string') : [];
  for (const name of names) {
    if (name.trim() === '') continue;
    let path = expand(name.trim(), lookup);
    if (path === '~' || path.startsWith('~/')) path = (env.HOME ?? '') + path.slice(1);
    const candidates = isAbsolute(path) ? [path] : [resolve(dag.dir, path), resolve(dirname(dag.file), path)];
    const found = candidates.find((c) => statSync(c, { throwIfNoEntry: false })?.isFile());
    if (found) return found;
  }
  return undefined;
}

function* walkFiles(path: string, asGiven: string): Generator<string> {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new SkiffError('usage', `--include ${asGiven}: no such file or directory`);
  if (st.isFile()) {
    yield path;
    return;
  }
  if (!st.isDirectory()) throw new SkiffError('usage', `--include ${asGiven}: not a file or a directory`);
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const child = resolve(path, entry.name);
    // Links are not followed: what they point at may be anywhere on this machine.
    if (entry.isDirectory()) yield* walkFiles(child, `${asGiven}/${entry.name}`);
    else if (entry.isFile()) yield child;
  }
}

export function allSteps(dag: Dag): Step[] {
  return [...dag.steps, ...Object.values(dag.handlerOn).filter((s): s is Step => s !== undefined)];
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
