// Creation ahead, the scheduler's side: steps that are not ready yet but may be soon (every
// dependency running or done, or waiting for a slot under maxActiveSteps) and whose command is
// already known are handed to their executor's prepare(); what a step did not use is undone
// (unprepare) when it ends, run or not.
import type { Dag, Step } from '../common/model.js';
import type { Executor, ExecutorEvent, ExecutorSet, ExpandAhead } from '../executors/contract.js';
import { commandAhead } from './step-scope.js';

// Steps prepared ahead at once (containers created before their step may start): the chain's
// next step, or the next few of a fan-out waiting for a slot.
const PREPARED_AHEAD = 4;

/** What the scheduler knows of a step that this needs. */
export interface AheadState {
  step: Step;
  phase: 'pending' | 'running' | 'done';
  deps: AheadState[];
  missingDeps: string[];
}

export class AheadPreparer<S extends AheadState> {
  readonly #prepared = new Map<S, Executor>();
  readonly #dag: Dag;
  readonly #runId: string;
  readonly #executors: ExecutorSet;
  readonly #expandAhead: ExpandAhead;
  readonly #emit: (event: ExecutorEvent) => void;

  constructor(opts: { dag: Dag; runId: string; executors: ExecutorSet; expandAhead: ExpandAhead; emit: (event: ExecutorEvent) => void }) {
    this.#dag = opts.dag;
    this.#runId = opts.runId;
    this.#executors = opts.executors;
    this.#expandAhead = opts.expandAhead;
    this.#emit = opts.emit;
  }

  /** Prepares the steps of `states` that may come next, up to PREPARED_AHEAD waiting at once. */
  prepare(states: readonly S[]): void {
    // Counted until they start: a started step has taken its container (or will, at once).
    let waiting = [...this.#prepared.keys()].filter((st) => st.phase === 'pending').length;
    for (const st of states) {
      if (waiting >= PREPARED_AHEAD) return;
      if (st.phase !== 'pending' || this.#prepared.has(st) || st.missingDeps.length > 0) continue;
      if (!st.deps.every((d) => d.phase !== 'pending')) continue;
      let executor: Executor;
      try {
        executor = this.#executors.executorFor(st.step);
      } catch {
        continue;
      }
      if (!executor.prepare) continue;
      const command = commandAhead(this.#expandAhead, st.step);
      if (command === null) continue;
      this.#prepared.set(st, executor);
      waiting++;
      executor.prepare({
        dag: this.#dag,
        step: st.step,
        runId: this.#runId,
        ...(command ? { command } : {}),
        expandAhead: this.#expandAhead,
        emit: this.#emit,
      });
    }
  }

  /** A step prepared ahead has ended (run or not): its executor drops what run() did not use. */
  unprepare(st: S): void {
    const executor = this.#prepared.get(st);
    if (!executor) return;
    this.#prepared.delete(st);
    void executor.unprepare?.(st.step);
  }
}
