// A DAG run from a pack runs where nothing can be pulled: pull policy `always` would fail on
// every image the pack brought, so for those images it becomes `missing` (the loaded image is
// the one wanted). Images the pack did not bring keep their policy.
import type { Dag, Step } from '../common/model.js';
import { matchKeys } from '../executors/docker/keys.js';
import { packNeeds } from './needs.js';

export interface PolicyChange {
  dag: Dag;
  /** Steps (or `container` for the DAG-level one) whose `always` became `missing`. */
  changed: string[];
}

export function pullMissingForPacked(dag: Dag, packed: ReadonlySet<string>, env?: NodeJS.ProcessEnv): PolicyChange {
  const changed = packNeeds(dag, { env })
    .images.filter((image) => packed.has(image.ref))
    .flatMap((image) => image.pullAlways);
  if (changed.length === 0) return { dag, changed };
  const names = new Set(changed);
  const adjust = (step: Step): Step => {
    if (!names.has(step.name) || step.executor.type !== 'docker' || !step.executor.config) return step;
    const key = matchKeys(step.executor.config, ['pull']).found.get('pull') ?? 'pull';
    return { ...step, executor: { ...step.executor, config: { ...step.executor.config, [key]: 'missing' } } };
  };
  const handlerOn = Object.fromEntries(Object.entries(dag.handlerOn).map(([on, step]) => [on, step && adjust(step)]));
  return {
    dag: {
      ...dag,
      steps: dag.steps.map(adjust),
      handlerOn,
      container: dag.container && names.has('container') ? { ...dag.container, pullPolicy: 'missing' } : dag.container,
    },
    changed: [...names],
  };
}
