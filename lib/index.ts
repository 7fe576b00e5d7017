// The package's front door, `skiff`: the Engine API client, recording and replaying its
// traffic, and running a DAG file. Importing it loads the client only: the DAG layer is loaded
// when runDagFile is first called, and the CLI never.
export * from './engine/index.js';
export * from './engine/replay/index.js';

import type { Dag, DagRunResult, LoadDagFileOptions, RunDagOptions } from './run.js';
export type { Dag, DagLoadError, DagRunResult, LoadDagFileOptions, Problem, RunDagOptions, RunEvent, RunReport, RunStatus, StepReport, StepStatus } from './run.js';

/**
 * Runs a DAG file (or a Dag from loadDagFile) as `skiff run` does, with its events; see
 * `skiff/run`. The DAG layer is loaded on the first call, not by importing the package.
 */
export async function runDagFile(dagOrFile: Dag | string, options?: RunDagOptions): Promise<DagRunResult> {
  return (await import('./run.js')).runDagFile(dagOrFile, options);
}

/** Reads, validates and builds a DAG file; throws a DagLoadError (kind 'config') listing every problem. */
export async function loadDagFile(file: string, options?: LoadDagFileOptions): Promise<Dag> {
  return (await import('./run.js')).loadDagFile(file, options);
}
