// `skiff status FILE [--run-id ID]`: the latest (or the given) run of a DAG as a tree. Exit 0
// whatever the run's outcome; 1 when the DAG has no such run.
import { Option } from 'clipanion';
import { join } from 'node:path';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { VerbCommand } from './verb.js';

/** How many lines of each stream the tree shows per step. */
const TAIL_LINES = 10;

export class StatusCommand extends VerbCommand {
  static override paths = [['status']];

  static override usage = VerbCommand.Usage({
    description: "show a run's steps, durations, commands and output",
    details: `
      Prints the latest run of the DAG (or the run given with \`--run-id\`) as a tree: each step's
      status, duration, command, the last lines of its output and its error. A run whose skiff
      process died is shown (and recorded) as failed. Exits 0 whatever the run's outcome, 1 when
      there is no such run. FILE may also be a DAG name.
    `,
    examples: [
      ['The latest run of a DAG', '$0 status build.yaml'],
      ['One run', '$0 status build.yaml --run-id 20261201T145116Z-2d98b918'],
    ],
  });

  runId = Option.String('--run-id,-r', { description: 'The run to show (default: the latest)' });

  file = Option.String({ name: 'FILE' });

  async run(): Promise<number> {
    const run = await this.findRun(this.file, this.runId);
    if (!run) return EXIT_FAILED;
    const [{ tailLines }, { renderStatusTree }, { colourEnabled, painter }] = await Promise.all([
      import('../../lib/dag/history/store.js'),
      import('../render/status-tree.js'),
      import('../render/format.js'),
    ]);
    const tails = new Map<string, { stdout: string[]; stderr: string[] }>();
    for (const step of [...run.record.steps, ...run.record.handlers]) {
      tails.set(step.name, {
        stdout: step.stdoutFile !== null ? await tailLines(step.stdoutFile, TAIL_LINES) : [],
        stderr: step.stderrFile !== null ? await tailLines(step.stderrFile, TAIL_LINES) : [],
      });
    }
    const paint = painter(colourEnabled(this.context.stdout, this.context.env));
    this.context.stdout.write(renderStatusTree({ record: run.record, runLog: join(run.attemptDir, 'run.log'), tails, paint, now: new Date() }));
    return EXIT_OK;
  }
}
