// Case-insensitive key normalisation for the pass-through blocks of a Docker step's config
// (`container`, `host`, `network`, `exec`). 1.2x-era Dagu decodes them into Docker's Go structs
// by Go field name, ignoring case, with weak typing (docs/dagu-behavior.md §3.2, Appendix A). Every Go
// field name differs from its Engine API JSON name only by case (`CPUShares`/`CpuShares`,
// `DNS`/`Dns`, `HostIP`/`HostIp`), so one table per struct, keyed by the JSON name and matched
// case-insensitively, accepts both spellings and emits the wire name.
//
// Unlike Dagu, a key that matches no field is reported (the Engine API drops typos silently),
// and resource limits written directly under `host` are kept: the Engine API's HostConfig is flat
// (docs/dagu-behavior.md §10, examples/seed-000 "Resource Limits").
//
// The tables and key matching are here; decoding a block with them is decode.ts, their JSON
// Schema key-schemas.ts.
import { didYouMean } from '../../common/did-you-mean.js';

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
export const MOUNT = table('Mount', {
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

/** For an unknown key: the field it probably meant (`cap_add` → `CapAdd`, `evn` → `Env`). */
export function suggest(t: StructTable, key: string): string | undefined {
  return didYouMean(key, Object.keys(t.fields));
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
