// What "the replay gives the same report as the live run" means, shared by the seed example tests
// (record live, replay at once), spec/engine/committed-recordings.test.ts (replay the committed
// fixtures) and scripts/record-fixtures (which writes the committed report.json this way).
//
// Volatile in a run report, and only these:
// - `stdoutFile` / `stderrFile` (of steps and handlers): absolute paths under the state directory, with the run id
//   (`runs/<dag>/<run id>/attempts/<n>/<step>.stdout.log`); two runs never share them. Whether a step has
//   a log (a path) or never ran (null) is not volatile and is kept: a path becomes LOG_FILE.
// Everything else (statuses, exit codes, errors with the stderr tail, outputs) must be equal.
// What the steps wrote is compared separately, log file by log file (`logsOf`).
import { existsSync, readFileSync } from 'node:fs';
import type { RunReport } from '../../lib/dag/report.js';

export const LOG_FILE = '<log file>';

/** The report without its volatile values (see the top of this file). */
export function stableReport(report: RunReport): RunReport {
  return {
    ...report,
    steps: report.steps.map((s) => ({
      ...s,
      stdoutFile: s.stdoutFile === null ? null : LOG_FILE,
      stderrFile: s.stderrFile === null ? null : LOG_FILE,
    })),
    handlers: report.handlers.map((h) => ({
      ...h,
      stdoutFile: h.stdoutFile === null ? null : LOG_FILE,
      stderrFile: h.stderrFile === null ? null : LOG_FILE,
    })),
  };
}

export interface StepLogs {
  stdout: string | null;
  stderr: string | null;
}

/** Each step's stdout and stderr log as text (null: no log), by step name. */
export function logsOf(report: RunReport): Record<string, StepLogs> {
  const read = (f: string | null) => (f !== null && existsSync(f) ? readFileSync(f, 'utf8') : null);
  return Object.fromEntries(report.steps.map((s) => [s.name, { stdout: read(s.stdoutFile), stderr: read(s.stderrFile) }]));
}

/** The warning `skiff run --replay` prints when the run did not make every recorded request. */
export const UNUSED_WARNING = /did not make \d+ recorded request/;

/** What a replay run is given instead of an engine: a socket that does not exist. */
export const NO_ENGINE = 'unix:///nowhere/docker.sock';

/** The run id in a step log's path (`…/runs/<dag>/<run id>/attempts/<n>/<step>.stdout.log`). */
export function runIdOfLog(path: string): string {
  const m = /\/runs\/[^/]+\/([^/]+)\//.exec(path);
  if (!m) throw new Error(`not a step log under runs/<dag>/<run id>/: ${path}`);
  return m[1]!;
}
