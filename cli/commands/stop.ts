// `skiff stop FILE [--run-id ID]`: from another terminal, stop a running run as Ctrl-C would
// (running steps stopped, cancel and exit handlers run, report written), and wait for it to end.
import { Option, UsageError } from 'clipanion';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { VerbCommand } from './verb.js';

const DEFAULT_TIMEOUT_SEC = 120;

export class StopCommand extends VerbCommand {
  static override paths = [['stop']];

  static override usage = VerbCommand.Usage({
    description: 'stop a running run',
    details: `
      Asks the skiff process running the DAG to cancel, as a first Ctrl-C in its terminal would:
      running steps are stopped (their stop signal, then a kill after maxCleanUpTimeSec), the
      cancel and exit handlers run, the report is written and the run ends \`aborted\`. Waits
      until it has ended (at most \`--timeout\` seconds). Without \`--run-id\` every running run of
      the DAG is stopped; none running is not an error.
    `,
    examples: [
      ['Stop the running runs of a DAG', '$0 stop build.yaml'],
      ['Stop one run', '$0 stop build.yaml --run-id 20261201T145116Z-2d98b918'],
    ],
  });

  runId = Option.String('--run-id,-r', { description: 'The run to stop (default: every running run of the DAG)' });

  timeout = Option.String('--timeout', { description: `Seconds to wait for the run to end (default ${DEFAULT_TIMEOUT_SEC})` });

  file = Option.String({ name: 'FILE' });

  async run(): Promise<number> {
    const timeoutSec = this.timeout === undefined ? DEFAULT_TIMEOUT_SEC : Number(this.timeout);
    if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) throw new UsageError(`--timeout: expected a number of seconds, got "${this.timeout}"`);
    const [{ dagNameOf }, { listRuns }, { stopRun }] = await Promise.all([
      import('../../lib/dag/history/query.js'),
      import('../../lib/dag/history/store.js'),
      import('../../lib/dag/history/stop.js'),
    ]);
    const dag = dagNameOf(this.file);
    let targets;
    if (this.runId !== undefined) {
      const run = await this.findRun(this.file, this.runId);
      if (!run) return EXIT_FAILED;
      if (!run.live) {
        this.context.stderr.write(`skiff: run ${run.runId} of ${dag} is not running (${run.record.status})\n`);
        return EXIT_OK;
      }
      targets = [run];
    } else {
      targets = (await listRuns(this.context.env, dag)).filter((r) => r.live);
      if (targets.length === 0) {
        this.context.stderr.write(`skiff: no running run of DAG "${dag}"\n`);
        return EXIT_OK;
      }
    }
    const stops = targets.map(async (run) => {
      this.context.stdout.write(`stopping run ${run.runId} of ${dag} (pid ${run.pid?.pid})…\n`);
      const ended = await stopRun(run, { timeoutMs: timeoutSec * 1000 });
      this.context.stdout.write(`run ${run.runId} of ${dag} ${ended.record.status.replace(/_/g, ' ')}\n`);
    });
    await Promise.all(stops);
    return EXIT_OK;
  }
}
