// A swarm step's `executor.config`: checked when the DAG loads, then normalised when the step
// starts, after its string leaves were `${}`-expanded. The keys are the docker executor's where
// they mean the same for a service (`image`, `platform`, `pull`, `container.env/workingDir/user`,
// `host.binds/mounts` and resource limits), decoded by the same weakly typed decoder, plus what
// only a swarm has: `resources` (limits and reservations), `placement` (its constraints checked
// as the swarm reads them: constraints.ts), `replicas`, `maxConcurrent`. A key that only means
// something to one engine (`containerName`, `exec`, `network`, `autoRemove`) is an error that
// says so, as is any unknown key: this executor is new, so nothing written for it needs to load
// with keys it ignores.
import Type, { type TSchema } from 'typebox';
import { SkiffError } from '../../common/errors.js';
import { goKind, isPlainMap } from '../../common/go-values.js';
import { childPath, type KeyPath, type Locate, type Problem } from '../../common/problem.js';
import type { PullPolicy } from '../../common/model.js';
import { normalizePlatform, platformError, pullPolicyOf, resolveHostPath, type NormalizedDockerConfig } from '../docker/config.js';
import { decodeBlock, isDynamic, type DecodeIssue } from '../docker/decode.js';
import { caseInsensitiveObject, schemaOfTable } from '../docker/key-schemas.js';
import { MOUNT, matchKeys, type StructTable } from '../docker/keys.js';
import { constraintProblem } from './constraints.js';

const table = (name: string, fields: StructTable['fields']): StructTable => ({ name, fields });

/** The `container` block: what a service's ContainerSpec takes of a container's Config. */
const CONTAINER = table('ContainerSpec', { Env: 'env', WorkingDir: 'string', User: 'string', Labels: 'stringMap', Entrypoint: 'strings', Hostname: 'string' });
/** The `host` block: mounts, and the docker executor's resource keys a service can honour. */
const HOST = table('HostConfig', {
  Binds: 'strings',
  Mounts: { structList: MOUNT },
  Memory: 'int',
  NanoCpus: 'int',
  MemoryReservation: 'int',
  PidsLimit: 'int',
  Init: 'bool',
});
const RESOURCES = table('ResourceRequirements', {
  Limits: { struct: table('Limit', { NanoCPUs: 'int', MemoryBytes: 'int', Pids: 'int' }) },
  Reservations: { struct: table('Resources', { NanoCPUs: 'int', MemoryBytes: 'int' }) },
});
const PLACEMENT = table('Placement', { Constraints: 'strings', Preferences: { structList: table('PlacementPreference', { Spread: 'string' }) }, MaxReplicas: 'int' });

const TOP_LEVEL = ['image', 'platform', 'pull', 'container', 'host', 'resources', 'placement', 'replicas', 'maxConcurrent'] as const;
type TopLevel = (typeof TOP_LEVEL)[number];

/** Docker executor keys with no meaning for a service, and why. */
const DOCKER_ONLY: Record<string, string> = {
  containername: 'exec into a running container is docker-only: a swarm step always runs as a new service',
  exec: 'exec into a running container is docker-only: a swarm step always runs as a new service',
  network: "the 'network' block is docker-only (a service's networks are swarm networks)",
  autoremove: 'a swarm step\'s service is always removed when the step ends',
};

const Count = Type.Union([Type.Integer({ minimum: 1 }), Type.String()]);

export const SwarmStepConfigSchema: TSchema = caseInsensitiveObject(
  {
    image: Type.Union([Type.String(), Type.Number()], { description: 'Image the service runs' }),
    platform: Type.String({ description: 'os[/arch[/variant]]: only nodes of that platform take the task' }),
    pull: Type.Union([Type.String(), Type.Boolean(), Type.Null()], {
      description: 'missing (default) or always: the nodes pull the tag; never: the manager\'s local image, pinned by ID',
    }),
    container: schemaOfTable(CONTAINER),
    host: schemaOfTable(HOST),
    resources: schemaOfTable(RESOURCES),
    placement: schemaOfTable(PLACEMENT),
    replicas: { ...Count, description: 'Tasks to run, each once (a step that fans out); default 1' },
    maxConcurrent: { ...Count, description: 'At most this many tasks at once (in waves); default: replicas' },
  },
  { additional: false, typedPatterns: false, description: 'Swarm executor config (a service whose tasks run once); keys match in any letter case' },
);

/** The docker executor's normalised keys that a service shares (`container`, `host`: their subsets here). */
export interface NormalizedSwarmConfig extends Pick<NormalizedDockerConfig, 'pull' | 'platform' | 'container' | 'host'> {
  image: string;
  resources: Record<string, unknown>;
  placement: Record<string, unknown>;
  replicas: number;
  maxConcurrent: number;
}

/** Load-time check. Values that hold `${…}`, `$NAME` or a backtick are checked when the step runs. */
export function checkSwarmStepConfig(raw: unknown, locate: Locate, ctx: { path: string }): Problem[] {
  return analyse(raw, { deferDynamic: true }).issues.map((issue) => ({ path: childPath(ctx.path, issue.path), message: issue.message, place: locate(issue.path) }));
}

/** Run-time: the expanded config, normalised. Throws SkiffError('config', …). */
export function normalizeSwarmStepConfig(expanded: unknown, ctx: { dir: string }): NormalizedSwarmConfig {
  const { issues, value } = analyse(expanded, { deferDynamic: false, dir: ctx.dir });
  if (issues.length > 0 || value === undefined) throw new SkiffError('config', issues.map((i) => i.message).join('\n') || 'executor config is required');
  return value;
}

function analyse(raw: unknown, mode: { deferDynamic: boolean; dir?: string }): { issues: DecodeIssue[]; value?: NormalizedSwarmConfig } {
  const issues: DecodeIssue[] = [];
  if (raw === null || raw === undefined) return { issues: [{ path: [], message: 'executor config is required (a swarm step needs at least an image)' }] };
  if (!isPlainMap(raw)) return { issues: [{ path: [], message: `failed to decode config: expected a map, got '${goKind(raw)}'` }] };
  const { found, unknown, duplicates } = matchKeys(raw, TOP_LEVEL);
  for (const d of duplicates) issues.push({ path: [d.key], message: `duplicate key ${d.key} (same field as ${d.first})` });
  for (const key of unknown) {
    // Also as Dagu 2.x spells it (`container_name`, `auto_remove`).
    const why = DOCKER_ONLY[key.toLowerCase().replace(/_/g, '')];
    issues.push({ path: [key], message: why ? `${key}: ${why}` : `unknown key ${key} in the swarm executor config (known: ${TOP_LEVEL.join(', ')})` });
  }
  const get = (name: TopLevel): unknown => (found.has(name) ? raw[found.get(name)!] : undefined);
  const at = (name: TopLevel): KeyPath => [found.get(name) ?? name];
  const opts = { deferDynamic: mode.deferDynamic };

  const container = decodeBlock(get('container'), CONTAINER, at('container'), opts, issues) ?? {};
  const host = decodeBlock(get('host'), HOST, at('host'), opts, issues) ?? {};
  const resources = decodeBlock(get('resources'), RESOURCES, at('resources'), opts, issues) ?? {};
  const placement = decodeBlock(get('placement'), PLACEMENT, at('placement'), opts, issues) ?? {};

  const imageRaw = get('image');
  const image = typeof imageRaw === 'string' ? imageRaw.trim() : typeof imageRaw === 'number' ? String(imageRaw) : undefined;
  if (imageRaw !== undefined && imageRaw !== null && image === undefined) issues.push({ path: at('image'), message: `'image' expected type 'string', got '${goKind(imageRaw)}'` });
  else if (!image) issues.push({ path: imageRaw === undefined ? [] : at('image'), message: 'image must be specified (a swarm step runs a new service from an image)' });

  const pull = pullPolicyOf(get('pull'), at('pull'), mode, issues);

  let platform: string | undefined;
  const platformRaw = get('platform');
  if (typeof platformRaw === 'string' && platformRaw.trim() !== '') {
    if (mode.deferDynamic && isDynamic(platformRaw)) platform = platformRaw;
    else {
      platform = normalizePlatform(platformRaw);
      if (platform === undefined) issues.push({ path: at('platform'), message: platformError(platformRaw) });
    }
  }

  const replicas = count(get('replicas'), at('replicas'), 'replicas', mode, issues) ?? 1;
  const maxConcurrent = count(get('maxConcurrent'), at('maxConcurrent'), 'maxConcurrent', mode, issues) ?? replicas;

  if (Array.isArray(host.Binds)) {
    host.Binds.forEach((bind, i) => {
      if (mode.deferDynamic && isDynamic(bind)) return;
      if (String(bind).split(':').length < 2) issues.push({ path: [...at('host'), 'binds', i], message: `invalid bind ${JSON.stringify(bind)}: expected source:target[:ro]` });
    });
  }
  if (mode.dir !== undefined && Array.isArray(host.Binds)) {
    const dir = mode.dir;
    host.Binds = (host.Binds as string[]).map((bind) => {
      const [source, ...rest] = bind.split(':');
      return source!.startsWith('.') || source!.startsWith('~') ? [resolveHostPath(source!, dir), ...rest].join(':') : bind;
    });
  }
  checkConstraints(get('placement'), at('placement'), mode, issues);
  if (!image) return { issues };
  return { issues, value: { image, pull, ...(platform ? { platform } : {}), container, host, resources, placement, replicas, maxConcurrent } };
}

/** Each placement constraint, at its place (a single string stands for a list of one). */
function checkConstraints(placement: unknown, path: KeyPath, mode: { deferDynamic: boolean }, issues: DecodeIssue[]): void {
  if (!isPlainMap(placement)) return;
  const key = Object.keys(placement).find((k) => k.toLowerCase() === 'constraints');
  if (key === undefined) return;
  const value = placement[key];
  const list = Array.isArray(value) ? value : [value];
  list.forEach((expr, i) => {
    if (typeof expr !== 'string' || (mode.deferDynamic && isDynamic(expr))) return;
    const problem = constraintProblem(expr);
    if (problem) issues.push({ path: Array.isArray(value) ? [...path, key, i] : [...path, key], message: problem });
  });
}

/** A positive whole number, or a string that will be one once expanded. */
function count(value: unknown, path: KeyPath, name: string, mode: { deferDynamic: boolean }, issues: DecodeIssue[]): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (mode.deferDynamic && isDynamic(value)) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1) {
    issues.push({ path, message: `${name} must be a whole number of at least 1, got ${JSON.stringify(value)}` });
    return undefined;
  }
  return n;
}
