// What the Docker executors would do, decided as they decide it but with read-only questions to
// the engine (inspect a container by name, inspect an image): for `skiff dry`. Creates, starts,
// pulls and removes nothing, so the engine records no event.
import type { ContainersApi, ImagesApi } from '../../engine/facets.js';
import { expandLeaves } from '../../common/expand.js';
import { normalizeDockerStepConfig } from './config.js';
import type { Command, DagContainer, PullPolicy } from '../../common/model.js';
import { SkiffError, isSkiffError } from '../../common/errors.js';
import type { StepContext } from '../contract.js';
import type { PlanItem, PullDecision } from '../plan-items.js';
import { LABEL_DAG, isSkiffOwned } from './labels.js';
import { matchesPlatform } from './pull.js';

/** Only what inspects: the type itself keeps a dry run from creating, pulling or removing. */
export interface InspectOnly {
  readonly containers: Pick<ContainersApi, 'find'>;
  readonly images: Pick<ImagesApi, 'find'>;
}

export interface PlanEngine {
  engine(): InspectOnly;
  platform(signal?: AbortSignal): Promise<string>;
}

/** A step of the docker executor: exec into a running container of that name, or create one. */
export async function planDockerStep(ctx: StepContext, deps: PlanEngine): Promise<PlanItem[]> {
  const { step } = ctx;
  if (step.executor.type !== 'docker') throw new SkiffError('config', `step "${step.name}" is not a docker step`);
  const raw = step.executor.config ?? {};
  // What the config's top level could be warned about is a load error now (config.ts).
  const items: PlanItem[] = [];
  const config = normalizeDockerStepConfig(expandLeaves(raw, ctx.lookup), { dir: ctx.dag.dir });
  const command = ctx.command ?? null;
  let replaces: string | undefined;
  if (config.containerName) {
    const existing = await ask(() => findByName(deps.engine(), config.containerName!, ctx.signal));
    if (existing === 'unknown') items.push({ kind: 'note', step: step.name, message: `the engine did not answer: whether container "${config.containerName}" exists is unknown` });
    else if (existing?.State.Running) return [...items, { kind: 'exec', step: step.name, container: config.containerName, command }];
    if (!config.image) throw new SkiffError('config', `container "${config.containerName}" is not running`);
    if (existing && existing !== 'unknown') replaces = `${config.containerName} (${existing.State.Status})`;
  }
  const image = config.image!;
  const pull = await pullDecision(deps, image, config.pull, config.platform, ctx.signal);
  return [
    ...items,
    { kind: 'create', step: step.name, image, pull, ...(config.containerName ? { name: config.containerName } : {}), command, removedAfter: config.autoRemove, ...(replaces ? { replaces } : {}) },
  ];
}

/** The DAG-level container: reused when skiff kept it running for this DAG, else created. */
export async function planDagContainer(spec: DagContainer, dagName: string, deps: PlanEngine, signal: AbortSignal): Promise<PlanItem> {
  let replaces: string | undefined;
  if (spec.name) {
    const existing = await ask(() => findByName(deps.engine(), spec.name!, signal));
    if (existing !== 'unknown' && existing) {
      const ours = isSkiffOwned(existing.Config.Labels) && existing.Config.Labels?.[LABEL_DAG] === dagName;
      if (!ours) throw new SkiffError('conflict', `container already exists. id=${existing.Id}`);
      if (existing.State.Running && spec.keepContainer) return { kind: 'dag-container', image: spec.image, name: spec.name, action: 'reuse', pull: 'present', kept: true };
      replaces = `${spec.name} (${existing.State.Status})`;
    }
  }
  const pull = await pullDecision(deps, spec.image, spec.pullPolicy, spec.platform, signal);
  return { kind: 'dag-container', image: spec.image, ...(spec.name ? { name: spec.name } : {}), action: 'create', pull, kept: spec.keepContainer, ...(replaces ? { replaces } : {}) };
}

async function pullDecision(deps: PlanEngine, image: string, policy: PullPolicy, platform: string | undefined, signal: AbortSignal): Promise<PullDecision> {
  if (policy === 'never') return 'never';
  if (policy === 'always') return 'pull';
  const local = await ask(async () => {
    const found = await deps.engine().images.find(image, { signal });
    return found && matchesPlatform(found, platform ?? (await deps.platform(signal)));
  });
  if (local === 'unknown') return 'unknown';
  return local ? 'present' : 'pull';
}

async function findByName(engine: InspectOnly, name: string, signal: AbortSignal) {
  const info = await engine.containers.find(name, { signal });
  return info && (info.Name === `/${name}` || info.Id === name) ? info : undefined;
}

/** An engine that cannot be reached makes the answer unknown, not the dry run failed. */
async function ask<T>(question: () => Promise<T>): Promise<T | 'unknown'> {
  try {
    return await question();
  } catch (err) {
    if (isSkiffError(err, 'engine-unreachable')) return 'unknown';
    throw err;
  }
}
