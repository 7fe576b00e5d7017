// A retry's kept steps (docs/run-history.md §3): results an earlier attempt of the run keeps. The
// scheduler counts them as done from the start and runs them no more.
import type { Dag } from '../common/model.js';
import type { RunReport, StepStatus } from './report.js';

/** A step's result carried over from an earlier attempt of the run. */
export interface KeptStep {
  status: StepStatus;
  exitCode: number | null;
  error: string | null;
  stdoutFile: string | null;
  stderrFile: string | null;
  /** The value of its `output:` variable. */
  output?: string;
}

/** A run that stopped before its steps (a DAG precondition, the set-up) still lists a retry's kept results. */
export function withKept(report: RunReport, kept: ReadonlyMap<string, KeptStep> | undefined, dag: Dag): RunReport {
  if (!kept || kept.size === 0) return report;
  const steps = report.steps.map((s) => {
    const k = kept.get(s.name);
    if (!k || s.status !== 'not_started') return s;
    const variable = dag.steps.find((d) => d.name === s.name)?.output;
    const outputs = variable !== undefined && k.output !== undefined ? { [variable]: k.output } : {};
    return { ...s, status: k.status, exitCode: k.exitCode, error: k.error, stdoutFile: k.stdoutFile, stderrFile: k.stderrFile, outputs };
  });
  return { ...report, steps };
}
