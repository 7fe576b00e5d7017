// A DAG run from a pack runs where nothing can be pulled: pull policy `always` would fail on
// every image the pack brought, so for those images it becomes `missing` (the loaded image is
// the one wanted). A swarm step of such an image runs it as `never`: the engine's own copy,
// pinned by ID, where any other policy asks a registry for the tag's digest and has the nodes
// try to pull it. Images the pack did not bring keep their policy.
import type { Dag, Step } from '../common/model.js';
import { matchKeys } from '../executors/docker/keys.js';
import { allSteps, packNeeds } from './needs.js';

export interface PolicyChange {
  dag: Dag;
  /** Steps (or `container` for the DAG-level one) whose `always` became `missing`. */
  changed: string[];
  /** Swarm steps whose policy became `never`. */
  pinned: string[];
}

export function pullMissingForPacked(dag: Dag, packed: ReadonlySet<string>, env?: NodeJS.ProcessEnv): PolicyChange {
  const images = packNeeds(dag, { env }).images.filter((image) => packed.has(image.ref));
  const changed = images.flatMap((image) => image.pullAlways);
  const swarm = new Set(images.flatMap((image) => image.swarm));
  const pinned = allSteps(dag).filter((step) => swarm.has(step.name) && policyOf(step) !== 'never').map((step) => step.name);
  if (changed.length === 0 && pinned.length === 0) return { dag, changed, pinned };
  const toMissing = new Set(changed);
  const toNever = new Set(pinned);
  const adjust = (step: Step): Step => {
    const { executor } = step;
    if (executor.type === 'local' || !executor.config) return step;
    const to = toMissing.has(step.name) && executor.type === 'docker' ? 'missing' : toNever.has(step.name) && executor.type === 'swarm' ? 'never' : undefined;
    if (to === undefined) return step;
    const key = matchKeys(executor.config, ['pull']).found.get('pull') ?? 'pull';
    return { ...step, executor: { ...executor, config: { ...executor.config, [key]: to } } };
  };
  const handlerOn = Object.fromEntries(Object.entries(dag.handlerOn).map(([on, step]) => [on, step && adjust(step)]));
  return {
    dag: {
      ...dag,
      steps: dag.steps.map(adjust),
      handlerOn,
      container: dag.container && toMissing.has('container') ? { ...dag.container, pullPolicy: 'missing' } : dag.container,
    },
    changed: [...toMissing],
    pinned,
  };
}

/** The step's `pull` as written, lower-cased, `false` as `never` (which needs no change). */
function policyOf(step: Step): string | undefined {
  if (step.executor.type === 'local' || !step.executor.config) return undefined;
  const config = step.executor.config;
  const key = matchKeys(config, ['pull']).found.get('pull');
  const value = key === undefined ? undefined : config[key];
  if (value === false) return 'never';
  return typeof value === 'string' ? value.trim().toLowerCase() : undefined;
}
