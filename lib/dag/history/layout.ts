// Where a run's history lives (docs/run-history.md §2). One directory per run, one subdirectory per attempt (the first
// start, then each retry), the definition snapshot beside them:
//
//   <state>/runs/<dag>/<run id>/
//     definition.json             the DAG file's text and the params the run started with
//     attempts/<n>/               n = 1, 2, …
//       status.jsonl              one status record per line, appended; the last one is current
//       pid                       the skiff process running the attempt (liveness)
//       CANCEL_REQUESTED          written by `skiff stop`; the running process watches for it
//       run.log, <step>.stdout.log, <step>.stderr.log
import { join } from 'node:path';
import { runDirFor, safeFileName, stateDir } from '../run-dir.js';

export const DEFINITION_FILE = 'definition.json';
export const STATUS_FILE = 'status.jsonl';
export const PID_FILE = 'pid';
export const CANCEL_FILE = 'CANCEL_REQUESTED';

export function runsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'runs');
}

export function dagRunsDir(dagName: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(runsRoot(env), safeFileName(dagName));
}

export { runDirFor };

export function attemptDir(runDir: string, attempt: number): string {
  return join(runDir, 'attempts', String(attempt));
}

/** What a run keeps of how it was started, so a retry or restart never reads the file again. */
export interface Definition {
  dag: string;
  runId: string;
  /** Absolute path the DAG was loaded from (relative paths in it resolve against its directory). */
  file: string;
  /** The file's text as loaded. */
  text: string;
  /** The parameters given on the command line (`--params` words, then those after `--`). */
  params: string[];
  createdAt: string;
  /** Where `text` had registry credentials written inline, taken out before it was stored (redact.ts). */
  redacted?: string[][];
}
