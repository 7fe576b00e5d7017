// The executors of a dry run (`skiff dry`, docs/run-history.md §5): the scheduler drives them as in a real run, so order,
// preconditions (their commands do run, as Dagu's dry run runs them) and handlers are decided as
// a run would decide them; but each step only says what it would do, as PlanItems, and succeeds.
import type { Dag } from '../common/model.js';
import { openEngine, type Engine, type EngineSelection } from '../engine/index.js';
import { planDagContainer, planDockerStep } from './docker/plan.js';
import type { PlanItem } from './plan-items.js';
import { planSwarmStep } from './swarm/plan.js';
import type { ExecutorSet } from './contract.js';
import { runProcess } from './local.js';

export type { PlanItem, PullDecision } from './plan-items.js';

export interface PlanOptions {
  env: NodeJS.ProcessEnv;
  /** The command line's `-H` / `-c`, over the environment's engine. */
  engine?: EngineSelection;
  onPlan(item: PlanItem): void;
}

export function createPlanExecutors(dag: Dag, options: PlanOptions): ExecutorSet {
  const env = { ...options.env, ...Object.fromEntries(dag.env) };
  let engine: Engine | undefined;
  let platform: Promise<string> | undefined;
  const deps = {
    engine: () => (engine ??= openEngine({ env, ...options.engine })),
    platform: (signal?: AbortSignal) => (platform ??= deps.engine().serverVersion(signal).then((v) => `${v.Os}/${v.Arch}`)),
  };
  return {
    async setup(ctx) {
      if (dag.container) options.onPlan(await planDagContainer(dag.container, dag.name, deps, ctx.signal));
    },
    executorFor: (step) => ({
      async run(ctx) {
        const command = ctx.command ?? null;
        if (dag.container) options.onPlan({ kind: 'in-dag-container', step: step.name, command });
        else if (step.executor.type === 'docker') for (const item of await planDockerStep(ctx, deps)) options.onPlan(item);
        else if (step.executor.type === 'swarm') options.onPlan(planSwarmStep(ctx));
        else options.onPlan({ kind: 'host', step: step.name, command, dir: step.dir });
        return { exitCode: 0 };
      },
    }),
    // Preconditions run for real, as in Dagu's dry run: they decide what the plan holds.
    runOnHost: runProcess,
    async close() {
      await engine?.close();
    },
  };
}
