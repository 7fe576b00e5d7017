// `skiff retry FILE [--run-id ID] [--step NAME [--downstream]]`: run a finished run's failed
// steps again, and what depends on them, from the run's stored definition; same run id, a new
// attempt (Dagu's `retry`).
import { Option, UsageError } from 'clipanion';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { runAttempt } from './run.js';
import { VerbCommand } from './verb.js';
import { contextOption, hostOption } from './engine-options.js';

export class RetryCommand extends VerbCommand {
  static override paths = [['retry']];

  static override usage = VerbCommand.Usage({
    description: 'run the failed steps of a run again',
    details: `
      Runs again the steps of the latest run (or \`--run-id\`) that failed, were aborted or
      cancelled, and every step downstream of them, from the run's stored copy of the DAG file
      and its parameters (not the file as it is now). Steps that succeeded (or were skipped) are
      not run again: they keep their status, logs and outputs, which the re-run steps see. The
      run keeps its id and gets a new attempt. \`--step NAME\` re-runs that step only, and with
      \`--downstream\` its descendants too. Exit codes as \`skiff run\`.
    `,
    examples: [
      ['Retry the latest run of a DAG', '$0 retry build.yaml'],
      ['Re-run one step and what depends on it', '$0 retry build.yaml --run-id 20261201T145116Z-2d98b918 --step test --downstream'],
    ],
  });

  runId = Option.String('--run-id,-r', { description: 'The run to retry (default: the latest)' });

  step = Option.String('--step', { description: 'Re-run this step only' });

  downstream = Option.Boolean('--downstream', false, { description: "With --step: re-run the step's descendants too" });

  report = Option.String('--report', { description: 'Write the run report (JSON) to this file, on every outcome' });

  quiet = Option.Boolean('--quiet,-q', false, { description: 'Print only errors and the final summary line' });

  follow = Option.Boolean('--follow,-f', false, { description: "Print each step's output as it arrives" });

  engineHost = hostOption();

  // Not `context`: clipanion's Command has its own.
  dockerContext = contextOption();

  file = Option.String({ name: 'FILE' });

  async run(): Promise<number> {
    if (this.downstream && this.step === undefined) throw new UsageError('--downstream requires --step');
    if (this.quiet && this.follow) throw new UsageError('--quiet and --follow cannot be used together');
    const run = await this.findRun(this.file, this.runId);
    if (!run) return EXIT_FAILED;
    if (run.live) {
      this.context.stderr.write(`skiff: run ${run.runId} of ${run.record.dag} is still running (pid ${run.pid?.pid}); stop it first (skiff stop)\n`);
      return EXIT_FAILED;
    }
    const [{ loadStoredDag }, { planRetry }] = await Promise.all([import('../../lib/dag/history/reload.js'), import('../../lib/dag/history/retry-plan.js')]);
    const stored = await this.loaded(() => loadStoredDag(run.dir, this.context.env));
    if (!stored) return EXIT_USAGE;
    const { dag, definition } = stored;
    const { rerun, kept } = planRetry(dag.steps, run.record, { ...(this.step !== undefined ? { step: this.step } : {}), downstream: this.downstream });
    if (rerun.size === 0) {
      this.context.stderr.write(`skiff: nothing to retry: every step of run ${run.runId} succeeded or was skipped\n`);
      return EXIT_OK;
    }
    if (!this.quiet) this.context.stderr.write(`retrying run ${run.runId} (attempt ${run.attempt + 1}): ${[...rerun].join(', ')}\n`);
    return runAttempt(
      { dag, runId: run.runId, trigger: 'retry', params: definition.params, kept },
      await this.rerunOptions(definition, this),
      this.context,
    );
  }
}
