// `skiff restart FILE [--run-id ID]`: stop a running run, then start its stored definition with
// its stored parameters again, as a new run (Dagu's `restart`).
import { Option } from 'clipanion';
import { EXIT_FAILED, EXIT_USAGE } from '../exit-codes.js';
import { runAttempt } from './run.js';
import { VerbCommand } from './verb.js';
import { contextOption, hostOption } from './engine-options.js';

const STOP_TIMEOUT_MS = 120_000;

export class RestartCommand extends VerbCommand {
  static override paths = [['restart']];

  static override usage = VerbCommand.Usage({
    description: 'stop a running run and start it again',
    details: `
      Stops the running run of the DAG (the latest, or \`--run-id\`) as \`skiff stop\` does, then
      runs the same definition with the same parameters again under a new run id, here, as
      \`skiff run\` would (the file as it was when the run started, not as it is now). Only for a
      run that is running.
    `,
    examples: [['Restart the running run of a DAG', '$0 restart build.yaml']],
  });

  runId = Option.String('--run-id,-r', { description: 'The run to restart (default: the latest)' });

  report = Option.String('--report', { description: 'Write the new run report (JSON) to this file' });

  quiet = Option.Boolean('--quiet,-q', false, { description: 'Print only errors and the final summary line' });

  follow = Option.Boolean('--follow,-f', false, { description: "Print each step's output as it arrives" });

  engineHost = hostOption();

  // Not `context`: clipanion's Command has its own.
  dockerContext = contextOption();

  file = Option.String({ name: 'FILE' });

  async run(): Promise<number> {
    const run = await this.findRun(this.file, this.runId);
    if (!run) return EXIT_FAILED;
    if (!run.live) {
      this.context.stderr.write(`skiff: DAG ${run.record.dag} is not running (run ${run.runId}: ${run.record.status})\n`);
      return EXIT_FAILED;
    }
    const [{ stopRun }, { loadStoredDag }, { newRunId }] = await Promise.all([
      import('../../lib/dag/history/stop.js'),
      import('../../lib/dag/history/reload.js'),
      import('../../lib/dag/run-dir.js'),
    ]);
    this.context.stderr.write(`stopping run ${run.runId}…\n`);
    const ended = await stopRun(run, { timeoutMs: STOP_TIMEOUT_MS });
    this.context.stderr.write(`run ${run.runId} ${ended.record.status.replace(/_/g, ' ')}; starting it again\n`);
    const stored = await this.loaded(() => loadStoredDag(run.dir, this.context.env));
    if (!stored) return EXIT_USAGE;
    const { dag, definition } = stored;
    return runAttempt(
      { dag, runId: newRunId(), trigger: 'restart', params: definition.params, text: definition.text },
      await this.rerunOptions(definition, this),
      this.context,
    );
  }
}
