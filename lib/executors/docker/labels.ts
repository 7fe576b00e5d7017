// Every object skiff creates carries these labels, so a crashed run's leftovers can be found
// and reaped by label, and objects skiff did not create are never touched.
import { hostname } from 'node:os';

export const LABEL_OWNER = 'dev.skiff.owner';
export const LABEL_RUN = 'dev.skiff.run';
export const LABEL_DAG = 'dev.skiff.dag';
export const LABEL_STEP = 'dev.skiff.step';
export const LABEL_PID = 'dev.skiff.pid';
export const LABEL_HOST = 'dev.skiff.host';
/** Set on what the user asked to keep (keepContainer, a step container without autoRemove): never reaped. */
export const LABEL_KEEP = 'dev.skiff.keep';

export interface LabelScope {
  runId: string;
  dag: string;
  step?: string;
  keep?: boolean;
}

export function skiffLabels(scope: LabelScope): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_OWNER]: 'skiff',
    [LABEL_RUN]: scope.runId,
    [LABEL_DAG]: scope.dag,
    [LABEL_PID]: String(process.pid),
    [LABEL_HOST]: hostname(),
  };
  if (scope.step !== undefined) labels[LABEL_STEP] = scope.step;
  if (scope.keep) labels[LABEL_KEEP] = 'true';
  return labels;
}

export function isSkiffOwned(labels: Record<string, string> | null | undefined): boolean {
  return labels?.[LABEL_OWNER] === 'skiff';
}

/** The `filters` value that finds what one run (or every skiff run) created. */
export function ownedFilter(runId?: string): Record<string, string[]> {
  return { label: runId ? [`${LABEL_OWNER}=skiff`, `${LABEL_RUN}=${runId}`] : [`${LABEL_OWNER}=skiff`] };
}
