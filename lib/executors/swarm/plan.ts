// What a swarm step would do, for `skiff dry`: the service it would create, decided from its
// config as the executor decides it. Nothing is asked of the swarm: what a node pulls and where a
// task lands are the swarm's to decide when the service exists.
import { expandLeaves } from '../../common/expand.js';
import { SkiffError } from '../../common/errors.js';
import type { StepContext } from '../contract.js';
import type { PlanItem } from '../plan-items.js';
import { normalizeSwarmStepConfig } from './config.js';

export function planSwarmStep(ctx: StepContext): PlanItem {
  const { step } = ctx;
  if (step.executor.type !== 'swarm') throw new SkiffError('config', `step "${step.name}" is not a swarm step`);
  const config = normalizeSwarmStepConfig(expandLeaves(step.executor.config ?? {}, ctx.lookup), { dir: ctx.dag.dir });
  const constraints = config.placement.Constraints;
  const maxConcurrent = Math.min(config.maxConcurrent, config.replicas);
  return {
    kind: 'service',
    step: step.name,
    image: config.image,
    pull: config.pull,
    replicas: config.replicas,
    maxConcurrent,
    // As the executor runs them: in waves of maxConcurrent, each a service of its own.
    services: Math.ceil(config.replicas / maxConcurrent),
    constraints: Array.isArray(constraints) ? constraints.map(String) : [],
    command: ctx.command ?? null,
  };
}
