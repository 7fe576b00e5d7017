// A swarm step as a service spec (Engine API 1.41 `ServiceSpec`) whose tasks run once each and
// are never restarted by the swarm (skiff's own retryPolicy decides retries).
//
// The mode is `replicated` with restart condition `none`, not `replicated-job`: on Engine 20.10
// removing a replicated-job service neither stops its running tasks nor removes their containers
// (docs/engine-api.md §13.4), so a cancelled step would go on running and every step would leave
// an exited container on its node. A replicated service's removal does both.
import type { ServiceSpec } from '../../engine/services.js';
import type { NormalizedSwarmConfig } from './config.js';

export interface ServiceSpecInput {
  config: NormalizedSwarmConfig;
  /** The image reference to run: the config's, or the manager's local image ID (`pull: never`). */
  image: string;
  step: string;
  runId: string;
  /** How many services the step has made before this one in this run. */
  serial: number;
  /** argv from the step's command; undefined: the image's CMD. */
  args?: string[];
  labels: Record<string, string>;
  stopSignal?: string;
  graceSec: number;
  /** Tasks to run at once (one wave of the step's replicas). */
  replicas: number;
}

export function serviceSpec(input: ServiceSpecInput): ServiceSpec {
  const { config } = input;
  const c = config.container;
  const userLabels = (c.Labels as Record<string, string> | undefined) ?? {};
  const containerSpec: Record<string, unknown> = {
    Image: input.image,
    Labels: { ...userLabels, ...input.labels },
    ...(c.Entrypoint !== undefined && { Command: c.Entrypoint }),
    ...(input.args !== undefined && { Args: input.args }),
    ...(c.Env !== undefined && { Env: c.Env }),
    ...(c.WorkingDir !== undefined && { Dir: c.WorkingDir }),
    ...(c.User !== undefined && { User: c.User }),
    ...(c.Hostname !== undefined && { Hostname: c.Hostname }),
    ...(config.host.Init !== undefined && { Init: config.host.Init }),
    Mounts: [...bindMounts((config.host.Binds as string[] | undefined) ?? []), ...((config.host.Mounts as object[] | undefined) ?? [])],
    StopSignal: input.stopSignal ?? 'SIGTERM',
    StopGracePeriod: input.graceSec * 1e9,
  };
  const placement: Record<string, unknown> = {
    ...(config.placement.Constraints !== undefined && { Constraints: config.placement.Constraints }),
    ...(config.placement.MaxReplicas !== undefined && { MaxReplicas: config.placement.MaxReplicas }),
    ...(config.placement.Preferences !== undefined && {
      Preferences: (config.placement.Preferences as Array<{ Spread?: string }>).map((p) => ({ Spread: { SpreadDescriptor: p.Spread } })),
    }),
    ...(config.platform !== undefined && { Platforms: [platformOf(config.platform)] }),
  };
  return {
    Name: serviceName(input.step, input.runId, input.serial),
    Labels: input.labels,
    TaskTemplate: {
      ContainerSpec: containerSpec,
      Resources: resourcesOf(config),
      RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
      Placement: placement,
    },
    Mode: { Replicated: { Replicas: input.replicas } },
  };
}

/** The docker executor's resource keys (`host.memory`…) under the swarm's names; `resources` wins. */
function resourcesOf(config: NormalizedSwarmConfig): Record<string, unknown> {
  const h = config.host;
  const limits: Record<string, unknown> = {
    ...(h.NanoCpus !== undefined && { NanoCPUs: h.NanoCpus }),
    ...(h.Memory !== undefined && { MemoryBytes: h.Memory }),
    ...(h.PidsLimit !== undefined && { Pids: h.PidsLimit }),
    ...(config.resources.Limits as object | undefined),
  };
  const reservations: Record<string, unknown> = {
    ...(h.MemoryReservation !== undefined && { MemoryBytes: h.MemoryReservation }),
    ...(config.resources.Reservations as object | undefined),
  };
  return { Limits: limits, Reservations: reservations };
}

/** `source:target[:ro|rw]`: an absolute source is a bind mount, a name is a volume. */
export function bindMounts(binds: readonly string[]): Array<Record<string, unknown>> {
  return binds.map((bind) => {
    const [source = '', target = '', options = ''] = bind.split(':');
    const readOnly = options.split(',').includes('ro');
    return { Type: source.startsWith('/') ? 'bind' : 'volume', Source: source, Target: target, ReadOnly: readOnly };
  });
}

function platformOf(platform: string): { OS: string; Architecture?: string } {
  const [os, arch] = platform.split('/');
  return arch === undefined ? { OS: os! } : { OS: os!, Architecture: arch };
}

/**
 * `skiff-<step>-<run id>-<n>`: readable in `docker service ls`, unique among runs, within the 63
 * characters and the letters swarm allows; `n` counts the services a step has made in this run
 * (attempts, waves), as the one before may still be being removed. No random part, so a
 * recorded run replays (the replay knows run ids).
 */
export function serviceName(step: string, runId: string, n: number): string {
  const slug = step.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 24).replace(/^-+|-+$/g, '');
  return `skiff-${slug || 'step'}-${runId}-${n}`;
}
