// The DAG-level `container:` block (docs/dagu-behavior.md §4.1, 4.5–4.7, 4.9). Keys match
// case-insensitively, types are strict, unknown keys are errors, as in Dagu. Unlike Dagu, which
// checks volumes, ports, restart policy, platform, startup, waitFor and logPattern only when the
// run starts (§10), skiff checks everything here, at load time, with Dagu's wording.
import { existsSync } from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { isIPv4 } from 'node:net';
import Type, { type TSchema } from 'typebox';
// Interpreted, as validate.ts does: checked once per run, where compiling would cost more.
import { Check, Errors } from 'typebox/value';
import { didYouMeanText } from '../../common/did-you-mean.js';
import { isSkiffError } from '../../common/errors.js';
import { expand, type Lookup } from '../../common/expand.js';
import { goTypeName, isPlainMap } from '../../common/go-values.js';
import { compileLogPattern } from '../../common/log-pattern.js';
import { childPath, type KeyPath, type Locate, type Problem } from '../../common/problem.js';
import type { DagContainer } from '../../common/model.js';
import { normalizePlatform, parsePullPolicy, platformError } from './config.js';
import { caseInsensitiveObject } from './key-schemas.js';
import { matchKeys } from './keys.js';

const EnvValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);

const FIELDS = {
  image: Type.String({ description: 'Required. Image of the container every step runs in' }),
  name: Type.String({ description: 'Container name (default: chosen by Docker)' }),
  pullPolicy: Type.Union([Type.String(), Type.Boolean()], { description: 'always | missing | never, or a boolean; default missing' }),
  env: Type.Union(
    [Type.Record(Type.String(), EnvValue), Type.Array(Type.Union([Type.String(), Type.Record(Type.String(), EnvValue)]))],
    { description: 'Container environment: a map, or a list of KEY=value strings and {KEY: value} maps; expanded at load' },
  ),
  volumes: Type.Array(Type.String(), { description: 'source:target[:ro|rw]; relative sources are relative to the DAG working directory' }),
  workingDir: Type.String({ description: 'Working directory inside the container' }),
  workDir: Type.String({ description: 'Alias of workingDir (wins when both are set)' }),
  user: Type.String({ description: 'name, uid or uid:gid' }),
  platform: Type.String({ description: 'os[/arch[/variant]], e.g. linux/amd64' }),
  ports: Type.Array(Type.String(), { description: '"80", "8080:80", "127.0.0.1:8080:80", optional /tcp|/udp|/sctp' }),
  network: Type.String({ description: 'bridge | host | none | container:<name|id> | a network name' }),
  keepContainer: Type.Boolean({ description: 'Do not remove the container at the end (it is still stopped)' }),
  startup: Type.String({ description: 'keepalive (default) | entrypoint | command' }),
  command: Type.Array(Type.String(), { description: 'Startup command for startup: command' }),
  waitFor: Type.String({ description: 'running (default) | healthy' }),
  logPattern: Type.String({ description: 'Regular expression to wait for in the container log before the steps run' }),
  restartPolicy: Type.String({ description: 'no | always | unless-stopped' }),
} satisfies Record<string, TSchema>;

type Field = keyof typeof FIELDS;
const FIELD_NAMES = Object.keys(FIELDS) as Field[];

export const DagContainerSchema: TSchema = caseInsensitiveObject(FIELDS, {
  additional: false,
  // buildDagContainer checks types with this schema, whatever the keys' letter case.
  typedPatterns: true,
  description: 'DAG-level container: every step runs in it via docker exec. Keys match in any letter case; image is required',
});

export function buildDagContainer(
  raw: unknown,
  locate: Locate,
  ctx: { dir: string; lookup: Lookup; path: string },
): { value?: DagContainer; problems: Problem[] } {
  const problems: Problem[] = [];
  const report = (rel: KeyPath, message: string): void => {
    problems.push({ path: childPath(ctx.path, rel), message, place: locate(rel) });
  };
  // `container:` with nothing under it: no DAG-level container (mapstructure leaves it nil).
  if (raw === null || raw === undefined) return { problems };
  if (!isPlainMap(raw)) {
    report([], `container must be a map, got ${goTypeName(raw)}`);
    return { problems };
  }

  // Keys: case-insensitive Go field names; unknown keys are load errors (§1.1).
  const { found, unknown, duplicates } = matchKeys(raw, FIELD_NAMES);
  for (const key of unknown) report([key], `container has invalid keys: ${key}${didYouMeanText(key, FIELD_NAMES)}`);
  for (const d of duplicates) report([d.key], `container has duplicate keys: ${d.key} (same field as ${d.first})`);
  const keyOf = (field: Field): string => found.get(field) ?? field;
  const get = (field: Field): unknown => {
    const key = found.get(field);
    return key === undefined ? undefined : raw[key];
  };

  // Types: strict (no weak typing), checked against the schema. `null` means "not given".
  // env and pullPolicy have Dagu texts of their own and are checked by hand below.
  const typed: Record<string, unknown> = {};
  for (const [field, key] of found) {
    if (field !== 'env' && field !== 'pullPolicy' && raw[key] !== null && raw[key] !== undefined) typed[key] = raw[key];
  }
  const badTypes = new Set<string>();
  if (!Check(DagContainerSchema, typed)) {
    const seen = new Set<string>();
    for (const error of Errors(DagContainerSchema, typed)) {
      if (seen.has(error.instancePath) || error.instancePath === '') continue;
      seen.add(error.instancePath);
      const rel = pointerToPath(error.instancePath);
      badTypes.add(String(rel[0]));
      const expected = describeExpected(rel);
      report(rel, `'${formatRel(rel)}' expected type '${expected}', got unconvertible type '${goTypeName(valueAt(typed, rel))}'`);
    }
  }
  const str = (field: Field): string | undefined => {
    const key = found.get(field);
    if (key === undefined || badTypes.has(key)) return undefined;
    const v = raw[key];
    return typeof v === 'string' ? v : undefined;
  };
  const list = (field: Field): string[] => {
    const key = found.get(field);
    if (key === undefined || badTypes.has(key)) return [];
    const v = raw[key];
    return Array.isArray(v) ? (v as string[]) : [];
  };

  const image = str('image')?.trim();
  if (!image && !badTypes.has(keyOf('image'))) report(['image'], 'image is required when container is specified');

  let pullPolicy: DagContainer['pullPolicy'] = 'missing';
  const pull = parsePullPolicy(get('pullPolicy'));
  if ('error' in pull) report([keyOf('pullPolicy')], pull.error);
  else pullPolicy = pull.policy;

  const env = evaluateEnv(get('env'), [keyOf('env')], ctx, report);

  // Volumes (§4.5)
  const binds: string[] = [];
  const volumes: DagContainer['volumes'] = [];
  list('volumes').forEach((spec, i) => {
    const parsed = parseVolume(spec, ctx.dir);
    if ('error' in parsed) report([keyOf('volumes'), i], parsed.error);
    else if ('bind' in parsed) binds.push(parsed.bind);
    else volumes.push(parsed.volume);
  });

  // Ports (§4.6, with HEAD's number and host IP checks)
  const ports: DagContainer['ports'] = {};
  list('ports').forEach((spec, i) => {
    const parsed = parsePort(spec);
    if ('error' in parsed) {
      report([keyOf('ports'), i], parsed.error);
      return;
    }
    const bindings = (ports[parsed.port] ??= []);
    if (parsed.binding) bindings.push(parsed.binding);
  });

  const network = str('network')?.trim() || undefined;
  if (network === 'container:') report([keyOf('network')], `invalid network: ${network} (missing container name or id)`);

  let restartPolicy: DagContainer['restartPolicy'];
  const restartRaw = str('restartPolicy')?.trim();
  if (restartRaw) {
    const policy = restartRaw.toLowerCase();
    if (policy === 'no' || policy === 'always' || policy === 'unless-stopped') restartPolicy = policy;
    else report([keyOf('restartPolicy')], `invalid restartPolicy: ${restartRaw} (supported: no, always, unless-stopped)`);
  }

  let platform: string | undefined;
  const platformRaw = str('platform')?.trim();
  if (platformRaw) {
    platform = normalizePlatform(platformRaw);
    if (platform === undefined) report([keyOf('platform')], platformError(platformRaw));
  }

  const command = list('command');
  let startup: DagContainer['startup'] = 'keepalive';
  const startupRaw = (str('startup') ?? '').trim().toLowerCase();
  if (startupRaw === 'keepalive' || startupRaw === 'entrypoint' || startupRaw === 'command') startup = startupRaw;
  else if (startupRaw !== '') report([keyOf('startup')], `invalid startup mode: ${startupRaw}`);
  if (startup === 'command' && command.length === 0 && !badTypes.has(keyOf('command'))) {
    report([found.has('command') ? keyOf('command') : keyOf('startup')], "startup 'command' requires non-empty command array");
  }

  let waitFor: DagContainer['waitFor'] = 'running';
  const waitRaw = (str('waitFor') ?? '').trim().toLowerCase();
  if (waitRaw === 'running' || waitRaw === 'healthy') waitFor = waitRaw;
  else if (waitRaw !== '') report([keyOf('waitFor')], `invalid waitFor mode: ${waitRaw}`);

  const logPatternRaw = str('logPattern');
  const logPattern = logPatternRaw?.trim() ? logPatternRaw : undefined;
  if (logPattern !== undefined) {
    try {
      compileLogPattern(logPattern);
    } catch (err) {
      report([keyOf('logPattern')], `invalid logPattern regex: error parsing regexp: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  if (problems.length > 0 || !image) return { problems };

  const name = str('name')?.trim() || undefined;
  const workingDir = str('workDir') || str('workingDir') || undefined;
  const user = str('user') || undefined;
  const value: DagContainer = {
    image,
    ...(name ? { name } : {}),
    pullPolicy,
    env,
    binds,
    volumes,
    ...(workingDir ? { workingDir } : {}),
    ...(user ? { user } : {}),
    ...(platform ? { platform } : {}),
    ports,
    ...(network ? { network } : {}),
    keepContainer: get('keepContainer') === true,
    startup,
    command,
    waitFor,
    ...(logPattern !== undefined ? { logPattern } : {}),
    ...(restartPolicy ? { restartPolicy } : {}),
    place: locate([]),
  };
  return { value, problems };
}

// ---------------------------------------------------------------------------------------------
// Type errors

function pointerToPath(pointer: string): KeyPath {
  return pointer
    .split('/')
    .slice(1)
    .map((s, i) => {
      const key = s.replace(/~1/g, '/').replace(/~0/g, '~');
      return i > 0 && /^\d+$/.test(key) ? Number(key) : key;
    });
}

function formatRel(rel: KeyPath): string {
  return childPath('', rel);
}

function valueAt(root: unknown, rel: KeyPath): unknown {
  let node = root;
  for (const part of rel) node = (node as Record<string | number, unknown> | undefined)?.[part];
  return node;
}

/** Go's name for the type the schema wants at `rel` (`bool`, `string`, `[]string`). */
function describeExpected(rel: KeyPath): string {
  const field = FIELD_NAMES.find((f) => f.toLowerCase() === String(rel[0]).toLowerCase());
  let schema: Record<string, unknown> | undefined = field ? (FIELDS[field] as unknown as Record<string, unknown>) : undefined;
  for (const part of rel.slice(1)) if (typeof part === 'number') schema = schema?.items as Record<string, unknown> | undefined;
  const describe = (s: Record<string, unknown> | undefined): string => {
    switch (s?.type) {
      case 'boolean':
        return 'bool';
      case 'array':
        return `[]${describe(s.items as Record<string, unknown>)}`;
      case 'string':
        return 'string';
      default:
        return 'value';
    }
  };
  return describe(schema);
}

// ---------------------------------------------------------------------------------------------
// env (§4.1): evaluated now; later entries see earlier ones; backticks run on the host

const ENV_ERROR = 'env config should be map of strings or array of key=value formatted string';

function evaluateEnv(
  raw: unknown,
  at: KeyPath,
  ctx: { dir: string; lookup: Lookup },
  report: (rel: KeyPath, message: string) => void,
): string[] {
  if (raw === null || raw === undefined) return [];
  const defined = new Map<string, string>();
  // Backticks run in the DAG working directory when it already exists (the run creates it).
  const cwd = existsSync(ctx.dir) ? ctx.dir : undefined;
  const lookup: Lookup = (name) => defined.get(name) ?? ctx.lookup(name);
  const define = (key: string, value: unknown, rel: KeyPath): void => {
    if (key === '' || !(typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null)) {
      report(rel, ENV_ERROR);
      return;
    }
    const text = value === null ? '' : String(value);
    try {
      defined.set(key, expand(text, lookup, { backticks: true, ...(cwd ? { cwd } : {}) }));
    } catch (err) {
      report(rel, isSkiffError(err) ? err.message : String(err));
    }
  };
  if (isPlainMap(raw)) {
    for (const [key, value] of Object.entries(raw)) define(key, value, [...at, key]);
  } else if (Array.isArray(raw)) {
    raw.forEach((item, i) => {
      if (typeof item === 'string') {
        const eq = item.indexOf('=');
        if (eq <= 0) report([...at, i], ENV_ERROR);
        else define(item.slice(0, eq), item.slice(eq + 1), [...at, i]);
      } else if (isPlainMap(item)) {
        for (const [key, value] of Object.entries(item)) define(key, value, [...at, i, key]);
      } else report([...at, i], ENV_ERROR);
    });
  } else report(at, ENV_ERROR);
  // A name given twice keeps its last value (Dagu builds a map) and its first position.
  return [...defined].map(([k, v]) => `${k}=${v}`);
}

// ---------------------------------------------------------------------------------------------
// volumes (§4.5)

type ParsedVolume = { bind: string } | { volume: DagContainer['volumes'][number] } | { error: string };

/**
 * `source:target[:ro|rw]`. Absolute, `.`-relative (against the DAG working directory) and `~`
 * sources are binds, always emitted with an explicit mode; anything else is a named volume.
 * `../x` is the real parent and `.cache` is `<dir>/.cache` (Dagu drops the first character).
 */
export function parseVolume(spec: string, dir: string): ParsedVolume {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) return { error: `invalid volume format: ${spec}` };
  const [source, target, mode = ''] = parts as [string, string, string?];
  if (mode !== '' && mode !== 'ro' && mode !== 'rw') return { error: `invalid volume format: invalid mode ${mode} in ${spec}` };
  const readOnly = mode === 'ro';
  let hostPath: string | undefined;
  if (nodePath.isAbsolute(source)) hostPath = source;
  else if (source.startsWith('.')) hostPath = nodePath.resolve(dir, source);
  else if (source.startsWith('~')) hostPath = nodePath.join(os.homedir(), source.slice(1));
  if (hostPath === undefined) return { volume: { name: source, target, readOnly } };
  return { bind: `${hostPath}:${target}:${readOnly ? 'ro' : 'rw'}` };
}

// ---------------------------------------------------------------------------------------------
// ports (§4.6)

type ParsedPort = { port: string; binding?: { hostIp: string; hostPort: string } } | { error: string };

function isPortNumber(s: string): boolean {
  if (!/^\d{1,5}$/.test(s)) return false;
  const n = Number(s);
  return n >= 1 && n <= 65535;
}

/** `"80"`, `"8080:80"`, `"127.0.0.1:8080:80"`, each with an optional `/tcp|/udp|/sctp`. */
export function parsePort(specIn: string): ParsedPort {
  const spec = specIn.trim();
  const parts = spec.split(':');
  if (parts.length > 3) return { error: `invalid port format: ${spec}` };
  const containerPart = parts[parts.length - 1]!;
  const hostPort = parts.length >= 2 ? parts[parts.length - 2]! : '';
  const hostIp = parts.length === 3 ? parts[0]! : '';
  let containerPort = containerPart;
  let proto = 'tcp';
  if (containerPart.includes('/')) {
    const protoParts = containerPart.split('/');
    if (protoParts.length !== 2) return { error: `invalid port format: invalid protocol in ${spec}` };
    [containerPort, proto] = protoParts as [string, string];
  }
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') return { error: `invalid port format: invalid protocol ${proto} in ${spec}` };
  if (!isPortNumber(containerPort)) return { error: `invalid port format: invalid container port ${containerPort} in ${spec}` };
  if (hostIp !== '' && !isIPv4(hostIp)) return { error: `invalid port format: invalid host IP ${hostIp} in ${spec}` };
  if (hostPort !== '' && !isPortNumber(hostPort)) return { error: `invalid port format: invalid host port ${hostPort} in ${spec}` };
  const port = `${Number(containerPort)}/${proto}`;
  // No host port: exposed only (Dagu binds nothing either, even with a host IP).
  if (hostPort === '') return { port };
  return { port, binding: { hostIp: hostIp || '0.0.0.0', hostPort: String(Number(hostPort)) } };
}
