// The end of a run, in every mode: `run <status> (<n> steps: …) in Ns`, where the logs are, and
// what went wrong with each failed step.
import { basename } from 'node:path';
import type { RunReport, RunStatus, StepStatus } from '../../lib/dag/report.js';
import { formatDuration, type Paint } from './format.js';

const COUNT_ORDER: StepStatus[] = ['succeeded', 'failed', 'skipped', 'aborted', 'cancelled', 'not_started'];

/** `partially_succeeded` → `partially succeeded`: words for people; the report keeps the codes. */
export function statusWords(status: string): string {
  return status.replace(/_/g, ' ');
}

/** `run failed (3 steps: 1 succeeded, 1 failed, 1 aborted) in 1.2s` */
export function summaryLine(report: RunReport, elapsedMs: number, paint?: Paint): string {
  const counts = new Map<StepStatus, number>();
  for (const step of report.steps) counts.set(step.status, (counts.get(step.status) ?? 0) + 1);
  const parts = COUNT_ORDER.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${statusWords(s)}`);
  const n = report.steps.length;
  const steps = `${n} step${n === 1 ? '' : 's'}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
  const status = paint ? paint(runColour(report.status), statusWords(report.status)) : statusWords(report.status);
  return `run ${status} (${steps}) in ${formatDuration(elapsedMs)}`;
}

function runColour(status: RunStatus): 'green' | 'red' | 'yellow' {
  return status === 'succeeded' ? 'green' : status === 'failed' ? 'red' : 'yellow';
}

/**
 * One line per step that failed (or was aborted with a reason of its own) and per handler that
 * failed, each with its log, then the run's own error when no line says it already (a start-up
 * failure, a timeout, an unmet precondition). A user's cancel is no error: it says nothing more.
 */
export function errorLines(report: RunReport, cancelled: boolean, startupHint?: string): string[] {
  const lines: string[] = [];
  const said = new Set<string>();
  for (const step of report.steps) {
    if (step.error === null) continue;
    if (step.status === 'failed') lines.push(`step ${step.name} failed: ${step.error}`);
    else if (step.status === 'aborted' && step.error !== 'upstream failed') lines.push(`step ${step.name} aborted: ${step.error}`);
    else continue;
    lines.push(...logLine(step));
    said.add(`step "${step.name}": ${step.error}`);
  }
  // A handler that failed is worth saying even when a step failed first (onFailure itself failing).
  for (const handler of report.handlers) {
    if (handler.status !== 'failed') continue;
    lines.push(`handler ${handler.name} failed: ${handler.error}`, ...logLine(handler));
    said.add(`handler ${handler.name} failed: ${handler.error}`);
  }
  if (report.error !== null && !said.has(report.error) && !(cancelled && report.error === 'cancelled')) {
    const where = report.phase === 'startup' ? 'could not start' : statusWords(report.status);
    lines.push(`run ${where}: ${report.error}`);
    if (report.phase === 'startup' && startupHint !== undefined) lines.push(`  hint: ${startupHint}`);
  }
  return lines;
}

/** The step's own log, where the whole of what it said is: the run folder holds every step's. */
function logLine(step: { stdoutFile: string | null; stderrFile: string | null }): string[] {
  if (step.stderrFile === null) return [];
  return [`  full output: ${step.stderrFile}${step.stdoutFile !== null ? ` (stdout: ${basename(step.stdoutFile)})` : ''}`];
}
