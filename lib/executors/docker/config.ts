// A Docker step's `executor.config` (docs/dagu-behavior.md §3.2): checked when the DAG loads, then
// normalised when the step starts, after its string leaves were `${}`-expanded.
//
// Top-level keys match case-insensitively; unknown ones are load errors with what was probably
// meant (Dagu ignores them, and a typo then changes what runs unseen). The four pass-through blocks are decoded by
// decode.ts, with the struct tables of keys.ts, into Engine API JSON. Seed promises kept where
// Dagu breaks them (§10): resource limits directly under `host`, relative `host.binds` sources
// resolved against the DAG's directory, the config checked at load time (not when the step
// runs). `exec` beside `image` without `containerName` is Dagu's load error.
import os from 'node:os';
import nodePath from 'node:path';
import Type, { type TSchema } from 'typebox';
import { SkiffError } from '../../common/errors.js';
import { didYouMeanText } from '../../common/did-you-mean.js';
import { goKind, goTypeName, isPlainMap, parseGoBool } from '../../common/go-values.js';
import { childPath, type KeyPath, type Locate, type Problem } from '../../common/problem.js';
import type { PullPolicy } from '../../common/model.js';
import { decodeBlock, isDynamic, type DecodeIssue } from './decode.js';
import { caseInsensitiveObject, schemaOfTable } from './key-schemas.js';
import { CONTAINER_CONFIG, EXEC_OPTIONS, HOST_CONFIG, NETWORKING_CONFIG, matchKeys } from './keys.js';

export interface NormalizedDockerConfig {
  image?: string;
  containerName?: string;
  pull: PullPolicy;
  autoRemove: boolean;
  /** Normalised `os/arch[/variant]` (or a lone OS). */
  platform?: string;
  /** Engine API `Config` JSON. */
  container: Record<string, unknown>;
  /** Engine API `HostConfig` JSON (flat: resource limits included, `AutoRemove` taken out). */
  host: Record<string, unknown>;
  /** Engine API `NetworkingConfig` JSON. */
  network: Record<string, unknown>;
  /** Undefined when the config has no `exec` block, or no `containerName` to exec into (then unused). */
  exec: { User?: string; WorkingDir?: string; Env?: string[]; Privileged?: boolean; Tty?: boolean } | undefined;
}

const TOP_LEVEL = ['image', 'containerName', 'pull', 'autoRemove', 'platform', 'container', 'host', 'network', 'exec'] as const;
type TopLevel = (typeof TOP_LEVEL)[number];

export const DockerStepConfigSchema: TSchema = caseInsensitiveObject(
  {
    image: Type.Union([Type.String(), Type.Number()], { description: 'Image to create a new container from' }),
    containerName: Type.Union([Type.String(), Type.Number()], {
      description: 'Container to exec into, and the name given to a container created from `image`',
    }),
    pull: Type.Union([Type.String(), Type.Boolean(), Type.Null()], {
      description: 'always | missing | never, or a boolean (true = always, false = never); default missing',
    }),
    autoRemove: Type.Union([Type.Boolean(), Type.String(), Type.Null()], { description: 'Remove the container created for the step when it ends' }),
    platform: Type.String({ description: 'os[/arch[/variant]], e.g. linux/amd64' }),
    container: schemaOfTable(CONTAINER_CONFIG),
    host: schemaOfTable(HOST_CONFIG),
    network: schemaOfTable(NETWORKING_CONFIG),
    exec: schemaOfTable(EXEC_OPTIONS),
  },
  {
    // Dagu ignores other top-level keys; skiff warns about them (unknownDockerConfigKeys).
    additional: true,
    typedPatterns: false,
    description: 'Docker executor config; keys match in any letter case',
  },
);

export const EXEC_WITHOUT_CONTAINER_NAME = "'exec' options require 'containerName' (exec-in-existing mode)";

// Where what people write at the top of `config` belongs (Compose and `docker run` habits).
const BELONGS_ELSEWHERE: Record<string, string> = {
  volume: 'host.binds (bind mounts) or container.volumes',
  volumes: 'host.binds (bind mounts) or container.volumes',
  binds: 'host.binds',
  mounts: 'host.mounts',
  env: 'container.env',
  environment: 'container.env',
  workingdir: 'container.workingDir',
  workdir: 'container.workingDir',
  user: 'container.user',
  entrypoint: 'container.entrypoint',
  cmd: 'the step\'s command',
  command: 'the step\'s command',
  ports: 'host.portBindings and container.exposedPorts',
  privileged: 'host.privileged',
  networkmode: 'host.networkMode',
};

function unknownTopLevel(key: string): string {
  const elsewhere = BELONGS_ELSEWHERE[key.toLowerCase().replace(/[_-]/g, '')];
  const hint = elsewhere !== undefined ? `; did you mean ${elsewhere}?` : didYouMeanText(key, TOP_LEVEL);
  return `unknown key ${key} in the docker executor config${hint}`;
}

/** Load-time check. Values that hold `${…}`, `$NAME` or a backtick are checked when the step runs. */
export function checkDockerStepConfig(raw: unknown, locate: Locate, ctx: { path: string }): Problem[] {
  const { issues } = analyse(raw, { deferDynamic: true });
  return issues.map((issue) => ({ path: childPath(ctx.path, issue.path), message: issue.message, place: locate(issue.path) }));
}

/** Run-time: the expanded config → Engine API bodies. Throws SkiffError('config', …). */
export function normalizeDockerStepConfig(expanded: unknown, ctx: { dir: string }): NormalizedDockerConfig {
  const { issues, value } = analyse(expanded, { deferDynamic: false, dir: ctx.dir });
  if (issues.length > 0 || value === undefined) {
    throw new SkiffError('config', issues.map((i) => i.message).join('\n') || 'executor config is required');
  }
  return value;
}

// ---------------------------------------------------------------------------------------------

interface Mode {
  deferDynamic: boolean;
  /** Set at run time: resolve relative bind sources against it. */
  dir?: string;
}

function analyse(raw: unknown, mode: Mode): { issues: DecodeIssue[]; value?: NormalizedDockerConfig } {
  const issues: DecodeIssue[] = [];
  if (raw === null || raw === undefined) return { issues: [{ path: [], message: 'executor config is required' }] };
  if (!isPlainMap(raw)) return { issues: [{ path: [], message: `failed to decode config: expected a map, got '${goKind(raw)}'` }] };

  const { found, duplicates, unknown } = matchKeys(raw, TOP_LEVEL);
  // Dagu ignores other keys here; a typo (`volume`, `auto_remove`) would then change what runs unseen.
  for (const k of unknown) issues.push({ path: [k], message: unknownTopLevel(k) });
  for (const d of duplicates) issues.push({ path: [d.key], message: `duplicate key ${d.key} (same field as ${d.first})` });
  const key = (name: TopLevel): string | undefined => found.get(name);
  const get = (name: TopLevel): unknown => {
    const k = key(name);
    return k === undefined ? undefined : raw[k];
  };
  const at = (name: TopLevel): KeyPath => [key(name) ?? name];
  const opts = { deferDynamic: mode.deferDynamic };

  // 1. decode (Dagu: `failed to decode config: …`)
  const container = decodeBlock(get('container'), CONTAINER_CONFIG, at('container'), opts, issues) ?? {};
  const host = decodeBlock(get('host'), HOST_CONFIG, at('host'), opts, issues) ?? {};
  const network = decodeBlock(get('network'), NETWORKING_CONFIG, at('network'), opts, issues) ?? {};
  const execRaw = get('exec');
  const exec = decodeBlock(execRaw, EXEC_OPTIONS, at('exec'), opts, issues) ?? {};
  const image = scalarString(get('image'), at('image'), issues);
  const containerName = containerNameOf(scalarString(get('containerName'), at('containerName'), issues), at('containerName'), mode, issues);
  const platformRaw = scalarString(get('platform'), at('platform'), issues);

  // 2. pull
  const pull = pullPolicyOf(get('pull'), at('pull'), mode, issues);

  // 3. image or containerName (a value only known after expansion may still be empty: not judged now)
  const deferred = mode.deferDynamic && (isDynamic(image) || isDynamic(containerName));
  if (!image && !containerName && !deferred) issues.push({ path: [], message: 'containerName or image must be specified' });

  // 4. `image` with a non-empty `exec` and no `containerName`: Dagu's load error (the exec options
  //    would go unused on a new container); nothing is created.
  const hasExec = execRaw !== null && execRaw !== undefined && (!isPlainMap(execRaw) || Object.keys(execRaw).length > 0);
  if (hasExec && image && !containerName && !deferred) issues.push({ path: at('exec'), message: EXEC_WITHOUT_CONTAINER_NAME });
  const execUsed = containerName !== undefined;

  // 5. autoRemove; top level always wins over host.autoRemove (§3.2)
  let autoRemove = host.AutoRemove === true;
  delete host.AutoRemove;
  const autoRemoveRaw = get('autoRemove');
  if (autoRemoveRaw !== null && autoRemoveRaw !== undefined) {
    if (mode.deferDynamic && isDynamic(autoRemoveRaw)) autoRemove = false;
    else {
      const parsed = parseAutoRemove(autoRemoveRaw);
      if (typeof parsed === 'string') issues.push({ path: at('autoRemove'), message: parsed });
      else autoRemove = parsed;
    }
  }

  // platform (Dagu: when the step starts, containerd's parser)
  let platform: string | undefined;
  if (platformRaw) {
    if (mode.deferDynamic && isDynamic(platformRaw)) platform = platformRaw;
    else {
      platform = normalizePlatform(platformRaw);
      if (platform === undefined) issues.push({ path: at('platform'), message: platformError(platformRaw) });
    }
  }

  if (mode.dir !== undefined) resolveHostPaths(host, mode.dir);
  if (image) container.Image = image;

  const value: NormalizedDockerConfig = {
    ...(image ? { image } : {}),
    ...(containerName ? { containerName } : {}),
    pull,
    autoRemove,
    ...(platform ? { platform } : {}),
    container,
    host,
    network,
    exec: execRaw === null || execRaw === undefined || !execUsed ? undefined : pickExec(exec),
  };
  return { issues, value };
}

/** `image`, `containerName`, `platform`: weakly typed strings, trimmed. Empty = absent. */
function scalarString(value: unknown, path: KeyPath, issues: DecodeIssue[]): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') {
    issues.push({ path, message: `failed to decode config: '${path[0]}' expected type 'string', got unconvertible type '${goKind(value)}'` });
    return undefined;
  }
  return value.trim() || undefined;
}

// Docker's rule for container names; the daemon shows names with a leading `/` and accepts one.
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * `/my-app` is `my-app` (the form `docker inspect` prints); anything else Docker would refuse is
 * an error now, not an unreadable engine answer when the step runs (a `/` inside the name turns
 * the inspect URL into a redirect).
 */
function containerNameOf(name: string | undefined, path: KeyPath, mode: Mode, issues: DecodeIssue[]): string | undefined {
  if (name === undefined || (mode.deferDynamic && isDynamic(name))) return name;
  const bare = name.replace(/^\//, '');
  if (!CONTAINER_NAME.test(bare)) {
    issues.push({ path, message: `invalid container name ${quote(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed` });
  }
  return bare;
}

function pickExec(exec: Record<string, unknown>): NonNullable<NormalizedDockerConfig['exec']> {
  // ConsoleSize, Attach*, DetachKeys, Cmd, Detach decode but do nothing for an exec (§3.6).
  const out: NonNullable<NormalizedDockerConfig['exec']> = {};
  if (exec.User !== undefined) out.User = exec.User as string;
  if (exec.WorkingDir !== undefined) out.WorkingDir = exec.WorkingDir as string;
  if (exec.Env !== undefined) out.Env = exec.Env as string[];
  if (exec.Privileged !== undefined) out.Privileged = exec.Privileged as boolean;
  if (exec.Tty !== undefined) out.Tty = exec.Tty as boolean;
  return out;
}

/**
 * examples/seed-000 promises `./app:/app` "Relative path" binds; Docker rejects them (§9), so sources
 * starting with `.` or `~` are made absolute here (`..` is the real parent, unlike Dagu's
 * DAG-level quirk). Bind mounts in `Mounts` get the same treatment.
 */
function resolveHostPaths(host: Record<string, unknown>, dir: string): void {
  if (Array.isArray(host.Binds)) host.Binds = host.Binds.map((bind: string) => resolveBind(bind, dir));
  if (Array.isArray(host.Mounts)) {
    for (const mount of host.Mounts as Array<Record<string, unknown>>) {
      const source = mount.Source;
      if (String(mount.Type).toLowerCase() === 'bind' && typeof source === 'string' && source !== '' && !nodePath.isAbsolute(source)) {
        mount.Source = resolveHostPath(source, dir);
      }
    }
  }
}

function resolveBind(bind: string, dir: string): string {
  const parts = bind.split(':');
  const source = parts[0]!;
  if (parts.length < 2 || !(source.startsWith('.') || source.startsWith('~'))) return bind;
  parts[0] = resolveHostPath(source, dir);
  return parts.join(':');
}

/** `~…` → home, anything else relative → against `dir`. */
export function resolveHostPath(source: string, dir: string): string {
  if (source.startsWith('~')) return nodePath.join(os.homedir(), source.slice(1));
  return nodePath.resolve(dir, source);
}

// ---------------------------------------------------------------------------------------------
// Values shared with the DAG-level container block (container-config.ts)


/** Go's `%q` for a plain string (close enough: JSON escaping). */
function quote(s: string): string {
  return JSON.stringify(s);
}

/** Dagu's `core.ParsePullPolicy` (§3.2): lower-case names, a bool, or a ParseBool string. */
export function parsePullPolicy(value: unknown): { policy: PullPolicy } | { error: string } {
  if (value === null || value === undefined || value === '') return { policy: 'missing' };
  if (typeof value === 'boolean') return { policy: value ? 'always' : 'never' };
  if (typeof value !== 'string') return { error: `invalid pull policy type: ${goTypeName(value)}` };
  if (value === 'always' || value === 'missing' || value === 'never') return { policy: value };
  const b = parseGoBool(value);
  if (b === undefined) return { error: `failed to parse pull policy as boolean: strconv.ParseBool: parsing ${quote(value)}: invalid syntax` };
  return { policy: b ? 'always' : 'never' };
}

/** A config's `pull` (default `missing`); one only known after expansion is judged then. */
export function pullPolicyOf(raw: unknown, path: KeyPath, mode: { deferDynamic: boolean }, issues: DecodeIssue[]): PullPolicy {
  if (mode.deferDynamic && isDynamic(raw)) return 'missing';
  const parsed = parsePullPolicy(raw);
  if ('error' in parsed) {
    issues.push({ path, message: parsed.error });
    return 'missing';
  }
  return parsed.policy;
}

/** Dagu's `stringutil.ParseBool` for `autoRemove`; a string is an error message. */
function parseAutoRemove(value: unknown): boolean | string {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const b = parseGoBool(value);
    return b ?? `failed to evaluate autoRemove value: strconv.ParseBool: parsing ${quote(value)}: invalid syntax`;
  }
  return `failed to evaluate autoRemove value: unsupported type ${goTypeName(value)} for bool`;
}

// Platforms as containerd's parser reads them, but stricter: the OS and the architecture must be
// ones Go knows (containerd accepts any `os/arch` pair and leaves the daemon to fail later).
const KNOWN_OS = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd', 'openbsd',
  'plan9', 'solaris', 'wasip1', 'windows', 'zos',
]);
const KNOWN_ARCH = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le',
  'mips64p32', 'mips64p32le', 'ppc', 'ppc64', 'ppc64le', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm',
]);
const COMPONENT = /^[A-Za-z0-9_.-]+$/;

function normalizeOs(value: string): string {
  const os = value.toLowerCase();
  return os === 'macos' ? 'darwin' : os;
}

function normalizeArch(value: string, variantIn: string): [arch: string, variant: string] {
  const arch = value.toLowerCase();
  const variant = variantIn.toLowerCase();
  switch (arch) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', variant === 'v1' ? '' : variant];
    case 'aarch64':
    case 'arm64':
      return ['arm64', variant === '8' || variant === 'v8.0' ? 'v8' : variant];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      // containerd's default arm variant is v7; kept explicit so it compares with image variants.
      if (variant === '' || variant === '7') return ['arm', 'v7'];
      return ['arm', /^[568]$/.test(variant) ? `v${variant}` : variant];
    default:
      return [arch, variant];
  }
}

/**
 * `linux`, `arm64`, `linux/amd64`, `linux/arm64/v8`, `x86_64` … → `os[/arch[/variant]]`;
 * undefined when it is not a platform. A lone OS stays alone (the daemon picks the arch).
 */
export function normalizePlatform(spec: string): string | undefined {
  const parts = spec.trim().split('/');
  if (parts.length > 3 || !parts.every((p) => COMPONENT.test(p))) return undefined;
  const format = (os: string, arch: string, variant: string): string => `${os}/${arch}${variant ? `/${variant}` : ''}`;
  if (parts.length === 1) {
    const os = normalizeOs(parts[0]!);
    if (KNOWN_OS.has(os)) return os;
    const [arch, variant] = normalizeArch(parts[0]!, '');
    return KNOWN_ARCH.has(arch) ? format('linux', arch, variant) : undefined;
  }
  const os = normalizeOs(parts[0]!);
  const [arch, variant] = normalizeArch(parts[1]!, parts[2] ?? '');
  if (!KNOWN_OS.has(os) || !KNOWN_ARCH.has(arch)) return undefined;
  return format(os, arch, variant);
}

export function platformError(spec: string): string {
  return `failed to parse platform ${spec}: ${quote(spec)}: unknown operating system or architecture: invalid argument`;
}
