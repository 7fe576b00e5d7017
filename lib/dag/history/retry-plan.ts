// Which steps a retry runs again (docs/run-history.md §3): by default every step that did not end well
// (failed, aborted, cancelled, not started) and everything downstream of one; with a step named,
// that step alone, or with its descendants. Every other step keeps its status, logs and outputs.
import { SkiffError } from '../../common/errors.js';
import type { Step } from '../../common/model.js';
import type { KeptStep } from '../kept-steps.js';
import type { RunRecord, StepRecord } from './record.js';

export interface RetryTarget {
  /** Re-run this step only (its runtime name). */
  step?: string;
  /** With `step`: its descendants too. */
  downstream?: boolean;
}

interface Node {
  name: string;
  depends: readonly string[];
}

const KEPT_STATUSES = new Set(['succeeded', 'skipped']);

/** The steps to run again, and those kept (by name) with their records. */
export function planRetry(steps: readonly Node[], record: RunRecord, target: RetryTarget = {}): { rerun: Set<string>; kept: Map<string, StepRecord> } {
  const byName = new Map(record.steps.map((s) => [s.name, s]));
  const seeds: string[] = [];
  if (target.step !== undefined) {
    if (!steps.some((s) => s.name === target.step)) {
      throw new SkiffError('usage', `--step: run ${record.runId} of ${record.dag} has no step named "${target.step}" (steps: ${steps.map((s) => s.name).join(', ')})`);
    }
    seeds.push(target.step);
  } else {
    for (const s of steps) {
      const status = byName.get(s.name)?.status ?? 'not_started';
      if (!KEPT_STATUSES.has(status)) seeds.push(s.name);
    }
  }
  const rerun = new Set(seeds);
  if (target.step === undefined || target.downstream) for (const d of descendants(steps, seeds)) rerun.add(d);
  const kept = new Map<string, StepRecord>();
  for (const s of steps) {
    const rec = byName.get(s.name);
    if (!rerun.has(s.name) && rec) kept.set(s.name, rec);
  }
  return { rerun, kept };
}

/** Every step that depends, directly or not, on one of `from`. */
export function descendants(steps: readonly Node[], from: readonly string[]): Set<string> {
  const dependents = new Map<string, string[]>();
  for (const s of steps) for (const d of s.depends) dependents.set(d, [...(dependents.get(d) ?? []), s.name]);
  const out = new Set<string>();
  const queue = [...from];
  while (queue.length > 0) {
    for (const next of dependents.get(queue.shift()!) ?? []) {
      if (out.has(next)) continue;
      out.add(next);
      queue.push(next);
    }
  }
  return out;
}

/** The kept steps' records as the scheduler takes them: status, logs, and the `output:` value. */
export function keptSteps(kept: ReadonlyMap<string, StepRecord>, steps: readonly Step[]): Map<string, KeptStep> {
  const out = new Map<string, KeptStep>();
  for (const step of steps) {
    const rec = kept.get(step.name);
    if (!rec || rec.status === 'running') continue;
    const output = step.output !== undefined ? rec.outputs[step.output] : undefined;
    out.set(step.name, {
      status: rec.status,
      exitCode: rec.exitCode,
      error: rec.error,
      stdoutFile: rec.stdoutFile,
      stderrFile: rec.stderrFile,
      ...(output !== undefined ? { output } : {}),
    });
  }
  return out;
}
