// `skiff logs FILE [--run-id ID] [--step NAME] [--stderr] [-f]`: a run's step output.
import { Option, UsageError } from 'clipanion';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { VerbCommand } from './verb.js';

export class LogsCommand extends VerbCommand {
  static override paths = [['logs']];

  static override usage = VerbCommand.Usage({
    description: "print a run's step output",
    details: `
      Prints what the steps of the latest run (or \`--run-id\`) wrote to stdout (\`--stderr\`: to
      stderr): one step with \`--step\`, else every step in order, each under a \`==> step <==\`
      header. \`-f\` keeps printing what a running run writes until it ends.
    `,
    examples: [
      ['The output of one step of the latest run', '$0 logs build.yaml --step test'],
      ['Follow a running run', '$0 logs build.yaml -f'],
    ],
  });

  runId = Option.String('--run-id,-r', { description: 'The run (default: the latest)' });

  step = Option.String('--step', { description: 'Only this step' });

  stderr = Option.Boolean('--stderr', false, { description: 'Print stderr instead of stdout' });

  follow = Option.Boolean('--follow,-f', false, { description: 'Keep printing until the run ends' });

  file = Option.String({ name: 'FILE' });

  async run(): Promise<number> {
    const run = await this.findRun(this.file, this.runId);
    if (!run) return EXIT_FAILED;
    const names = [...run.record.steps, ...run.record.handlers].map((s) => s.name);
    if (this.step !== undefined && !names.includes(this.step)) {
      throw new UsageError(`--step: run ${run.runId} has no step named "${this.step}" (steps: ${names.join(', ')})`);
    }
    const { readStepLogs } = await import('../../lib/dag/history/follow.js');
    const out = this.context.stdout;
    // Ctrl-C while following ends the command quietly; the run itself is not touched.
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    try {
      let current: string | undefined;
      let atLineStart = true;
      const pieces = readStepLogs({ runDir: run.dir, ...(this.step !== undefined ? { step: this.step } : {}), stream: this.stderr ? 'stderr' : 'stdout', follow: this.follow, signal: stop.signal });
      for await (const piece of pieces) {
        if (this.step === undefined && piece.step !== current) {
          out.write(`${atLineStart ? '' : '\n'}${current === undefined ? '' : '\n'}==> ${piece.step} <==\n`);
          current = piece.step;
        }
        atLineStart = piece.chunk[piece.chunk.length - 1] === 0x0a;
        if (!out.write(piece.chunk)) await new Promise((resolve) => out.once('drain', resolve));
      }
    } finally {
      process.off('SIGINT', onSignal);
    }
    return EXIT_OK;
  }
}
