// What the scheduler tells its caller while a run goes on. The CLI renders these; the library
// never prints.
import type { ExecutorEvent } from '../executors/contract.js';
import type { RunReport, StepStatus } from './report.js';

export type RunEvent =
  | { type: 'run-start'; runId: string; dag: string; logDir: string }
  | { type: 'startup-start' }
  | { type: 'startup-end'; error?: string; hint?: string }
  | { type: 'step-start'; step: string; attempt: number; handler: boolean }
  | { type: 'step-output'; step: string; stream: 'stdout' | 'stderr'; chunk: Buffer }
  | { type: 'step-retry'; step: string; attempt: number; delayMs: number; error: string }
  // `kept`: a retry keeps the step's result from an earlier attempt; it did not run now.
  | { type: 'step-end'; step: string; status: StepStatus | 'partially_succeeded'; exitCode: number | null; error: string | null; handler: boolean; kept?: boolean }
  | { type: 'cancel-requested'; force: boolean }
  | { type: 'executor'; event: ExecutorEvent }
  | { type: 'run-end'; report: RunReport };
