// An executor set for scheduler tests: every `local` step runs as a host process; any other
// executor type is a configuration error for that step. (The CLI uses lib/executors/index.ts.)
import { SkiffError } from '../../lib/common/errors.js';
import type { Step } from '../../lib/common/model.js';
import { localExecutor, runProcess } from '../../lib/executors/local.js';
import type { Executor, ExecutorSet } from '../../lib/executors/contract.js';

export function createLocalExecutorSet(): ExecutorSet {
  return {
    executorFor(step: Step): Executor {
      if (step.executor.type === 'local') return localExecutor;
      throw new SkiffError('config', `step "${step.name}": executor type "${step.executor.type}" is not available here`, {
        place: step.executor.type === 'docker' ? step.executor.place : step.place,
      });
    },
    runOnHost: runProcess,
    async close(): Promise<void> {
      // Local processes are owned and reaped by each run() call; nothing run-wide to release.
    },
  };
}
