// Case-insensitive key normalisation for the pass-through blocks of a Docker step's config
// (`container`, `host`, `network`, `exec`). Seed-era Dagu decodes them into Docker's Go structs
// by Go field name, ignoring case, with weak typing (dagu-behavior.md §3.2, Appendix A). Every Go
// field name differs from its Engine API JSON name only by case (`CPUShares`/`CpuShares`,
// `DNS`/`Dns`, `HostIP`/`HostIp`), so one table per struct, keyed by the JSON name and matched
// case-insensitively, accepts both spellings and emits the wire name.
//
// Unlike Dagu, a key that matches no field is reported (the Engine API drops typos silently),
// and resource limits written directly under `host` are kept: the Engine API's HostConfig is flat
// (dagu-behavior.md §10, seed 000 "Resource Limits").
import Type, { type TSchema } from 'typebox';
import { childPath, formatPath, type KeyPath } from '../../common/problem.js';
import { goKind, isPlainMap, parseGoBool } from '../../common/go-values.js';

export { childPath, goKind, isPlainMap, parseGoBool, type KeyPath };

/** How a field's value is decoded. */
export type FieldType =
  | 'string'
  | 'bool'
  | 'int'
  /** `[]string`; a single scalar becomes a one-element list. */
  | 'strings'
  /** `[]string` of `KEY=value`; a map is also accepted (skiff extension). */
  | 'env'
  /** `map[string]string`, keys verbatim. */
  | 'stringMap'
  /** `map[string]struct{}` (ExposedPorts, Volumes), keys verbatim; a list of keys is also accepted. */
  | 'set'
  /** `[2]uint` (ConsoleSize). */
  | 'ints'
  /** Passed through untouched (`[][]string` options and the like). */
  | 'any'
  | { struct: StructTable; flatten?: boolean }
  | { structList: StructTable }
  /** `map[string]Struct`, keys verbatim (EndpointsConfig). */
  | { structMap: StructTable }
  /** `map[string][]Struct`, keys verbatim (PortBindings). */
  | { structListMap: StructTable };

export interface StructTable {
  /** Docker's name for the struct, used in messages. */
  name: string;
  /** Engine API JSON name → type. */
  fields: Record<string, FieldType>;
}

function table(name: string, fields: Record<string, FieldType>): StructTable {
  return { name, fields };
}

const RESTART_POLICY = table('RestartPolicy', { Name: 'string', MaximumRetryCount: 'int' });
const LOG_CONFIG = table('LogConfig', { Type: 'string', Config: 'stringMap' });
const PORT_BINDING = table('PortBinding', { HostIp: 'string', HostPort: 'string' });
const DRIVER = table('Driver', { Name: 'string', Options: 'stringMap' });
const MOUNT = table('Mount', {
  Type: 'string',
  Source: 'string',
  Target: 'string',
  ReadOnly: 'bool',
  Consistency: 'string',
  BindOptions: {
    struct: table('BindOptions', {
      Propagation: 'string',
      NonRecursive: 'bool',
      CreateMountpoint: 'bool',
      ReadOnlyNonRecursive: 'bool',
      ReadOnlyForceRecursive: 'bool',
    }),
  },
  VolumeOptions: {
    struct: table('VolumeOptions', { NoCopy: 'bool', Labels: 'stringMap', Subpath: 'string', DriverConfig: { struct: DRIVER } }),
  },
  ImageOptions: { struct: table('ImageOptions', { Subpath: 'string' }) },
  TmpfsOptions: { struct: table('TmpfsOptions', { SizeBytes: 'int', Mode: 'int', Options: 'any' }) },
  ClusterOptions: 'any',
});
const WEIGHT_DEVICE = table('WeightDevice', { Path: 'string', Weight: 'int' });
const THROTTLE_DEVICE = table('ThrottleDevice', { Path: 'string', Rate: 'int' });

/** `container.Resources`, embedded in HostConfig (flat on the wire). */
export const RESOURCES = table('Resources', {
  CpuShares: 'int',
  Memory: 'int',
  NanoCpus: 'int',
  CgroupParent: 'string',
  BlkioWeight: 'int',
  BlkioWeightDevice: { structList: WEIGHT_DEVICE },
  BlkioDeviceReadBps: { structList: THROTTLE_DEVICE },
  BlkioDeviceWriteBps: { structList: THROTTLE_DEVICE },
  BlkioDeviceReadIOps: { structList: THROTTLE_DEVICE },
  BlkioDeviceWriteIOps: { structList: THROTTLE_DEVICE },
  CpuPeriod: 'int',
  CpuQuota: 'int',
  CpuRealtimePeriod: 'int',
  CpuRealtimeRuntime: 'int',
  CpusetCpus: 'string',
  CpusetMems: 'string',
  Devices: { structList: table('DeviceMapping', { PathOnHost: 'string', PathInContainer: 'string', CgroupPermissions: 'string' }) },
  DeviceCgroupRules: 'strings',
  DeviceRequests: {
    structList: table('DeviceRequest', { Driver: 'string', Count: 'int', DeviceIDs: 'strings', Capabilities: 'any', Options: 'stringMap' }),
  },
  KernelMemory: 'int',
  KernelMemoryTCP: 'int',
  MemoryReservation: 'int',
  MemorySwap: 'int',
  MemorySwappiness: 'int',
  OomKillDisable: 'bool',
  PidsLimit: 'int',
  Ulimits: { structList: table('Ulimit', { Name: 'string', Soft: 'int', Hard: 'int' }) },
  CpuCount: 'int',
  CpuPercent: 'int',
  IOMaximumIOps: 'int',
  IOMaximumBandwidth: 'int',
});

/** `container.Config` (the `container` block). */
export const CONTAINER_CONFIG = table('Config', {
  Hostname: 'string',
  Domainname: 'string',
  User: 'string',
  AttachStdin: 'bool',
  AttachStdout: 'bool',
  AttachStderr: 'bool',
  ExposedPorts: 'set',
  Tty: 'bool',
  OpenStdin: 'bool',
  StdinOnce: 'bool',
  Env: 'env',
  Cmd: 'strings',
  Healthcheck: {
    // Durations are integer nanoseconds on the wire; `5s` does not decode (Appendix A).
    struct: table('HealthConfig', { Test: 'strings', Interval: 'int', Timeout: 'int', StartPeriod: 'int', StartInterval: 'int', Retries: 'int' }),
  },
  ArgsEscaped: 'bool',
  Image: 'string',
  Volumes: 'set',
  WorkingDir: 'string',
  Entrypoint: 'strings',
  NetworkDisabled: 'bool',
  MacAddress: 'string',
  OnBuild: 'strings',
  Labels: 'stringMap',
  StopSignal: 'string',
  StopTimeout: 'int',
  Shell: 'strings',
});

/** `container.HostConfig` (the `host` block), with the Resources fields accepted flat or nested. */
export const HOST_CONFIG = table('HostConfig', {
  Binds: 'strings',
  ContainerIDFile: 'string',
  LogConfig: { struct: LOG_CONFIG },
  NetworkMode: 'string',
  PortBindings: { structListMap: PORT_BINDING },
  RestartPolicy: { struct: RESTART_POLICY },
  AutoRemove: 'bool',
  VolumeDriver: 'string',
  VolumesFrom: 'strings',
  ConsoleSize: 'ints',
  Annotations: 'stringMap',
  CapAdd: 'strings',
  CapDrop: 'strings',
  CgroupnsMode: 'string',
  Dns: 'strings',
  DnsOptions: 'strings',
  DnsSearch: 'strings',
  ExtraHosts: 'strings',
  GroupAdd: 'strings',
  IpcMode: 'string',
  Cgroup: 'string',
  Links: 'strings',
  OomScoreAdj: 'int',
  PidMode: 'string',
  Privileged: 'bool',
  PublishAllPorts: 'bool',
  ReadonlyRootfs: 'bool',
  SecurityOpt: 'strings',
  StorageOpt: 'stringMap',
  Tmpfs: 'stringMap',
  UTSMode: 'string',
  UsernsMode: 'string',
  ShmSize: 'int',
  Sysctls: 'stringMap',
  Runtime: 'string',
  Isolation: 'string',
  Mounts: { structList: MOUNT },
  MaskedPaths: 'strings',
  ReadonlyPaths: 'strings',
  Init: 'bool',
  Resources: { struct: RESOURCES, flatten: true },
  ...RESOURCES.fields,
});

const ENDPOINT_SETTINGS = table('EndpointSettings', {
  IPAMConfig: { struct: table('EndpointIPAMConfig', { IPv4Address: 'string', IPv6Address: 'string', LinkLocalIPs: 'strings' }) },
  Links: 'strings',
  Aliases: 'strings',
  MacAddress: 'string',
  DriverOpts: 'stringMap',
  GwPriority: 'int',
  NetworkID: 'string',
  EndpointID: 'string',
  Gateway: 'string',
  IPAddress: 'string',
  IPPrefixLen: 'int',
  IPv6Gateway: 'string',
  GlobalIPv6Address: 'string',
  GlobalIPv6PrefixLen: 'int',
  DNSNames: 'strings',
});

/** `network.NetworkingConfig` (the `network` block). */
export const NETWORKING_CONFIG = table('NetworkingConfig', { EndpointsConfig: { structMap: ENDPOINT_SETTINGS } });

/** `container.ExecOptions` (the `exec` block). */
export const EXEC_OPTIONS = table('ExecOptions', {
  User: 'string',
  Privileged: 'bool',
  Tty: 'bool',
  Env: 'env',
  WorkingDir: 'string',
  // Decoded by Dagu but never used for the exec (§3.6); accepted and dropped.
  ConsoleSize: 'ints',
  AttachStdin: 'bool',
  AttachStderr: 'bool',
  AttachStdout: 'bool',
  DetachKeys: 'string',
  Cmd: 'strings',
  Detach: 'bool',
});

// ---------------------------------------------------------------------------------------------
// Key matching

const lowerIndex = new WeakMap<StructTable, Map<string, string>>();

/** The JSON name of `key` in `t`, matched case-insensitively (Dagu's `strings.EqualFold`). */
export function fieldName(t: StructTable, key: string): string | undefined {
  let index = lowerIndex.get(t);
  if (!index) {
    index = new Map(Object.keys(t.fields).map((name) => [name.toLowerCase(), name]));
    lowerIndex.set(t, index);
  }
  return index.get(key.toLowerCase());
}

/** For an unknown key: the field it probably meant (`cap_add` → `CapAdd`). */
function suggest(t: StructTable, key: string): string | undefined {
  const squashed = key.replace(/[_-]/g, '');
  return squashed === key ? undefined : fieldName(t, squashed);
}

/**
 * Matches the keys of `raw` against `names` case-insensitively. Returns the canonical name → the
 * key as written, keys that match nothing, and keys that name a field already given.
 */
export function matchKeys(
  raw: Record<string, unknown>,
  names: readonly string[],
): { found: Map<string, string>; unknown: string[]; duplicates: Array<{ key: string; first: string }> } {
  const byLower = new Map(names.map((n) => [n.toLowerCase(), n]));
  const found = new Map<string, string>();
  const unknown: string[] = [];
  const duplicates: Array<{ key: string; first: string }> = [];
  for (const key of Object.keys(raw)) {
    const name = byLower.get(key.toLowerCase());
    if (name === undefined) unknown.push(key);
    else if (found.has(name)) duplicates.push({ key, first: found.get(name)! });
    else found.set(name, key);
  }
  return { found, unknown, duplicates };
}

// ---------------------------------------------------------------------------------------------
// Weakly typed decoding (mapstructure's WeaklyTypedInput, as Dagu configures it for these blocks)

export interface DecodeIssue {
  /** Relative to the value handed to `decodeBlock`, keys as written. */
  path: KeyPath;
  message: string;
}

export interface DecodeOptions {
  /**
   * Load time: a string that still holds `${…}`, `$NAME` or a backtick is only known after
   * expansion, so it is kept as is instead of being converted (and possibly rejected) now.
   */
  deferDynamic: boolean;
}

const DYNAMIC = /\$\{|\$[A-Za-z0-9_]|`/;

/** True when `s` will change under `${}`/backtick expansion, so its final value is unknown yet. */
export function isDynamic(s: unknown): boolean {
  return typeof s === 'string' && DYNAMIC.test(s);
}

/** Decodes one block (`container`, `host`, `network`, `exec`) into Engine API JSON. */
export function decodeBlock(
  raw: unknown,
  t: StructTable,
  path: KeyPath,
  options: DecodeOptions,
  issues: DecodeIssue[],
): Record<string, unknown> | undefined {
  return new Decoder(options, issues).struct(raw, t, path);
}

class Decoder {
  constructor(
    private readonly options: DecodeOptions,
    private readonly issues: DecodeIssue[],
  ) {}

  private fail(path: KeyPath, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  private typeError(path: KeyPath, expected: string, value: unknown): undefined {
    return this.fail(path, `failed to decode config: '${formatPath(path)}' expected type '${expected}', got unconvertible type '${goKind(value)}'`);
  }

  private deferred(value: unknown): boolean {
    return this.options.deferDynamic && isDynamic(value);
  }

  struct(raw: unknown, t: StructTable, path: KeyPath): Record<string, unknown> | undefined {
    if (raw === null || raw === undefined) return {};
    if (!isPlainMap(raw)) return this.fail(path, `failed to decode config: '${formatPath(path)}' expected a map, got '${goKind(raw)}'`);
    const out: Record<string, unknown> = {};
    const setBy = new Map<string, KeyPath>();
    this.fill(raw, t, path, out, setBy);
    return out;
  }

  private fill(raw: Record<string, unknown>, t: StructTable, path: KeyPath, out: Record<string, unknown>, setBy: Map<string, KeyPath>): void {
    for (const [key, value] of Object.entries(raw)) {
      const here = [...path, key];
      const name = fieldName(t, key);
      if (name === undefined) {
        const hint = suggest(t, key);
        this.fail(here, `unknown key ${formatPath(here)} (not a Docker ${t.name} field${hint ? `; did you mean ${hint}?` : ''})`);
        continue;
      }
      const type = t.fields[name]!;
      if (typeof type === 'object' && 'struct' in type && type.flatten) {
        // `host.resources: {…}` (Dagu's only working form) lands in the same flat HostConfig.
        if (value === null || value === undefined) continue;
        if (!isPlainMap(value)) {
          this.fail(here, `failed to decode config: '${formatPath(here)}' expected a map, got '${goKind(value)}'`);
          continue;
        }
        this.fill(value, type.struct, here, out, setBy);
        continue;
      }
      const first = setBy.get(name);
      if (first) {
        this.fail(here, `duplicate key ${formatPath(here)} (same field as ${formatPath(first)})`);
        continue;
      }
      if (value === null || value === undefined) continue;
      setBy.set(name, here);
      const decoded = this.value(value, type, here);
      if (decoded !== undefined) out[name] = decoded;
    }
  }

  value(value: unknown, type: FieldType, path: KeyPath): unknown {
    if (typeof type === 'object') {
      if ('struct' in type) return this.struct(value, type.struct, path);
      if ('structList' in type) return this.list(value, path, (item, p) => this.struct(item, type.structList, p));
      if ('structMap' in type) return this.map(value, path, (item, p) => this.struct(item, type.structMap, p));
      return this.map(value, path, (item, p) => (item === null || item === undefined ? [] : this.list(item, p, (one, q) => this.struct(one, type.structListMap, q))));
    }
    switch (type) {
      case 'string':
        return this.string(value, path);
      case 'bool':
        return this.bool(value, path);
      case 'int':
        return this.int(value, path);
      case 'strings':
        return this.list(value, path, (item, p) => this.string(item, p));
      case 'env':
        if (isPlainMap(value)) {
          const out: string[] = [];
          for (const [k, v] of Object.entries(value)) {
            const s = v === null || v === undefined ? '' : this.string(v, [...path, k]);
            if (s !== undefined) out.push(`${k}=${s}`);
          }
          return out;
        }
        return this.list(value, path, (item, p) => this.string(item, p));
      case 'stringMap':
        return this.map(value, path, (item, p) => (item === null || item === undefined ? '' : this.string(item, p)));
      case 'set':
        if (Array.isArray(value)) {
          const out: Record<string, object> = {};
          value.forEach((item, i) => {
            const key = this.string(item, [...path, i]);
            if (key !== undefined) out[key] = {};
          });
          return out;
        }
        return this.map(value, path, (item, p) => {
          if (item === null || item === undefined || (isPlainMap(item) && Object.keys(item).length === 0)) return {};
          return this.fail(p, `failed to decode config: '${formatPath(p)}' expected an empty map, got '${goKind(item)}'`);
        });
      case 'ints':
        return this.list(value, path, (item, p) => this.int(item, p, true));
      case 'any':
        return value;
    }
  }

  /** A single value where a list is expected becomes a one-element list (weak typing). */
  private list(value: unknown, path: KeyPath, item: (v: unknown, p: KeyPath) => unknown): unknown[] | undefined {
    const items = Array.isArray(value) ? value : [value];
    const out: unknown[] = [];
    let ok = true;
    items.forEach((v, i) => {
      const decoded = item(v, Array.isArray(value) ? [...path, i] : path);
      if (decoded === undefined) ok = false;
      else out.push(decoded);
    });
    return ok ? out : undefined;
  }

  /** A map whose keys are data (network names, label names, ports): kept verbatim. */
  private map(value: unknown, path: KeyPath, item: (v: unknown, p: KeyPath) => unknown): Record<string, unknown> | undefined {
    if (!isPlainMap(value)) return this.fail(path, `failed to decode config: '${formatPath(path)}' expected a map, got '${goKind(value)}'`);
    const out: Record<string, unknown> = {};
    let ok = true;
    for (const [k, v] of Object.entries(value)) {
      const decoded = item(v, [...path, k]);
      if (decoded === undefined) ok = false;
      else out[k] = decoded;
    }
    return ok ? out : undefined;
  }

  private string(value: unknown, path: KeyPath): string | undefined {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return this.typeError(path, 'string', value);
  }

  private bool(value: unknown, path: KeyPath): boolean | string | undefined {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'number') return value !== 0;
    if (typeof value === 'string') {
      if (this.deferred(value)) return value;
      if (value === '') return undefined;
      const b = parseGoBool(value);
      if (b !== undefined) return b;
      return this.fail(path, `failed to decode config: cannot parse '${formatPath(path)}' as bool`);
    }
    return this.typeError(path, 'bool', value);
  }

  private int(value: unknown, path: KeyPath, required = false): number | string | undefined {
    if (typeof value === 'number') {
      if (Number.isInteger(value)) return value;
      return this.typeError(path, 'int', value);
    }
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (typeof value === 'string') {
      if (this.deferred(value)) return value;
      const s = value.trim();
      if (s === '' && !required) return undefined;
      if (/^[+-]?\d+$/.test(s)) return Number(s);
      return this.fail(path, `failed to decode config: cannot parse '${formatPath(path)}' as int`);
    }
    return this.typeError(path, 'int', value);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON Schema of the same tables (the published schema and the editor's view of these blocks)

/** A regular expression matching `name` in any letter case (JSON Schema has no `i` flag). */
export function caseInsensitivePattern(name: string): string {
  let out = '^';
  for (const ch of name) {
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    out += lower !== upper ? `[${upper}${lower}]` : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return `${out}$`;
}

/**
 * An object schema whose properties are matched in any letter case. `properties` lists one
 * spelling of each key (for completion); `patternProperties` accepts every other spelling, either
 * with the same schema (`typedPatterns`, for small blocks whose checks rely on it) or with any
 * value (large nested blocks, where repeating each schema per spelling would multiply the size
 * at every level; skiff's own decoder checks those values).
 */
export function caseInsensitiveObject(
  props: Record<string, TSchema>,
  options: { additional: boolean; typedPatterns: boolean; spelling?: (name: string) => string; description?: string },
): TSchema {
  const properties: Record<string, TSchema> = {};
  const patternProperties: Record<string, TSchema> = {};
  for (const [name, schema] of Object.entries(props)) {
    properties[options.spelling ? options.spelling(name) : name] = Type.Optional(schema);
    patternProperties[caseInsensitivePattern(name)] = options.typedPatterns ? schema : Type.Unknown();
  }
  return Type.Object(properties, {
    patternProperties,
    additionalProperties: options.additional,
    ...(options.description ? { description: options.description } : {}),
  });
}

const SPELLING_EXCEPTIONS: Record<string, string> = { IPv4Address: 'ipv4Address', IPv6Address: 'ipv6Address', IPv6Gateway: 'ipv6Gateway' };

/** The lower-camel spelling the seeds use for a JSON name: `CpuShares` → `cpuShares`, `IPAMConfig` → `ipamConfig`. */
export function camelSpelling(name: string): string {
  const exception = SPELLING_EXCEPTIONS[name];
  if (exception) return exception;
  const run = /^[A-Z]+/.exec(name)?.[0] ?? '';
  if (run.length === name.length) return name.toLowerCase();
  if (run.length > 1 && /[a-z]/.test(name[run.length]!)) return run.slice(0, -1).toLowerCase() + name.slice(run.length - 1);
  return run.toLowerCase() + name.slice(run.length);
}

const scalar = (): TSchema => Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

function schemaOfType(type: FieldType): TSchema {
  if (typeof type === 'object') {
    if ('struct' in type) return schemaOfTable(type.struct);
    if ('structList' in type) return Type.Union([Type.Array(schemaOfTable(type.structList)), schemaOfTable(type.structList)]);
    if ('structMap' in type) return Type.Record(Type.String(), Type.Union([schemaOfTable(type.structMap), Type.Null()]));
    const item = schemaOfTable(type.structListMap);
    return Type.Record(Type.String(), Type.Union([Type.Array(item), item, Type.Null()]));
  }
  switch (type) {
    case 'string':
      return scalar();
    case 'bool':
      return Type.Union([Type.Boolean(), Type.String(), Type.Number()]);
    case 'int':
      return Type.Union([Type.Integer(), Type.String(), Type.Boolean()]);
    case 'strings':
      return Type.Union([Type.Array(scalar()), scalar()]);
    case 'env':
      return Type.Union([Type.Array(scalar()), scalar(), Type.Record(Type.String(), Type.Union([scalar(), Type.Null()]))]);
    case 'stringMap':
      return Type.Record(Type.String(), Type.Union([scalar(), Type.Null()]));
    case 'set':
      return Type.Union([Type.Record(Type.String(), Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()])), Type.Array(Type.String())]);
    case 'ints':
      return Type.Array(Type.Union([Type.Integer(), Type.String()]));
    case 'any':
      return Type.Unknown();
  }
}

const schemaCache = new WeakMap<StructTable, TSchema>();

/** The JSON Schema of a struct table: its fields in lower camel case, any letter case accepted, no other keys. */
export function schemaOfTable(t: StructTable): TSchema {
  const cached = schemaCache.get(t);
  if (cached) return cached;
  const props: Record<string, TSchema> = {};
  for (const [name, type] of Object.entries(t.fields)) props[name] = schemaOfType(type);
  const schema = caseInsensitiveObject(props, {
    additional: false,
    typedPatterns: false,
    spelling: camelSpelling,
    description: `Docker ${t.name} (Engine API field names, matched in any letter case)`,
  });
  schemaCache.set(t, schema);
  return schema;
}

