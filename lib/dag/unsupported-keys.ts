// Keys of Dagu's DAG files that skiff does not support. Each is named as such, never dropped in
// silence and never called an invalid key: an error where ignoring it would change what runs
// (a step that calls another DAG, repeats, writes its output elsewhere…), a warning where it would
// not (scheduling, mail, history, UI metadata: what the Dagu server does around a run).

export interface Unsupported {
  /** What it is for in Dagu, and why skiff can do without it (or not). */
  why: string;
  /** Ignoring it would change what runs: the file is refused. */
  refuse: boolean;
}

const warn = (why: string): Unsupported => ({ why, refuse: false });
const refuse = (why: string): Unsupported => ({ why, refuse: true });

export const UNSUPPORTED_DAG_KEYS: Record<string, Unsupported> = {
  schedule: warn('skiff has no scheduler: run the DAG from cron or CI'),
  skipIfSuccessful: warn('it applies to scheduled runs'),
  restartWaitSec: warn('skiff has no restart command'),
  histRetentionDays: warn('skiff keeps no run history to prune'),
  logDir: warn('step logs go under $SKIFF_STATE_DIR/runs/'),
  maxActiveRuns: warn('skiff runs one DAG per process'),
  queue: warn('skiff runs one DAG per process'),
  mailOn: warn('skiff sends no mail'),
  smtp: warn('skiff sends no mail'),
  errorMail: warn('skiff sends no mail'),
  infoMail: warn('skiff sends no mail'),
  tags: warn('skiff has no UI to list DAGs by tag'),
  group: warn('skiff has no UI to group DAGs'),
  otel: warn('skiff exports no traces'),
  runConfig: warn('it configures the Dagu UI'),
  workerSelector: warn('skiff runs every step on this host'),
  ssh: warn('skiff has no ssh executor'),
  secrets: refuse('the steps would run without the variables it defines'),
};

export const UNSUPPORTED_STEP_KEYS: Record<string, Unsupported> = {
  mailOnError: warn('skiff sends no mail'),
  workerSelector: warn('skiff runs every step on this host'),
  call: refuse('the step would not run the DAG it calls'),
  run: refuse('the step would not run the DAG it calls'),
  params: refuse('it passes parameters to a called DAG, which skiff does not run'),
  parallel: refuse('the step would run once instead of once per item'),
  repeatPolicy: refuse('the step would run once instead of repeating'),
  stdout: refuse('the step\'s output would not go to that file'),
  stderr: refuse('the step\'s errors would not go to that file'),
  shellPackages: refuse('the packages the step needs would not be installed'),
};

/** `schedule is not supported by skiff (…)`, with what skiff does about it. */
export function unsupportedMessage(owner: string, key: string, entry: Unsupported): string {
  const who = owner === 'DAG' ? key : `${owner}: ${key}`;
  return `${who} is not supported by skiff (${entry.why}); ${entry.refuse ? 'remove it, or run this DAG with Dagu' : 'ignored'}`;
}
