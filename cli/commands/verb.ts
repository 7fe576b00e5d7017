// What the verbs over a DAG's run history share: the `--debug` flag, errors reported as every
// command reports them, and finding the run a `FILE [--run-id ID]` pair names.
import { Command, Option } from 'clipanion';
import type { Definition } from '../../lib/dag/history/layout.js';
import type { StoredRun } from '../../lib/dag/history/store.js';
import type { RunOptions } from './run.js';
import { engineSelection } from './engine-options.js';

export abstract class VerbCommand extends Command {
  debug = Option.Boolean('--debug', false, { description: 'Show the cause chain and stack of an error' });

  abstract run(): Promise<number>;

  async execute(): Promise<number> {
    try {
      return await this.run();
    } catch (err) {
      const [{ debugEnabled, reportFailure }, { colourEnabled }] = await Promise.all([import('../render/errors.js'), import('../render/format.js')]);
      const colored = colourEnabled(this.context.stderr, this.context.env);
      return reportFailure(err, {
        stderr: this.context.stderr,
        debug: debugEnabled(this.debug, this.context.env),
        // MiniCli's type leaves `colored` out; the Cli behind it takes it.
        formatUsageError: (e) => `${this.cli.error(e, { command: this, colored } as { command: Command }).trimEnd()}\n`,
      });
    }
  }

  /**
   * The run `dagArg` (a DAG file or a DAG name) and `runId` name: that run, else the DAG's latest.
   * Says so on stderr and resolves undefined when there is none.
   */
  async findRun(dagArg: string, runId: string | undefined): Promise<StoredRun | undefined> {
    const [{ dagNameOf }, { findRun }] = await Promise.all([import('../../lib/dag/history/query.js'), import('../../lib/dag/history/store.js')]);
    const dag = dagNameOf(dagArg);
    const run = await findRun(this.context.env, dag, runId);
    if (!run) this.context.stderr.write(runId === undefined ? `skiff: no run of DAG "${dag}" found\n` : `skiff: no run ${runId} of DAG "${dag}" found\n`);
    return run;
  }

  /** Runs a DAG loader; an invalid file's problems are printed (file:line:col) and give undefined. */
  async loaded<T>(load: () => Promise<T> | T): Promise<T | undefined> {
    const [{ DagLoadError }, { problemLines }] = await Promise.all([import('../../lib/dag/index.js'), import('../render/errors.js')]);
    try {
      return await load();
    } catch (err) {
      if (!(err instanceof DagLoadError)) throw err;
      this.context.stderr.write(problemLines(err.problems).map((l) => `${l}\n`).join(''));
      return undefined;
    }
  }

  /** The options of a run started again from a stored definition (`retry`, `restart`). */
  async rerunOptions(
    definition: Definition,
    flags: { report: string | undefined; quiet: boolean; follow: boolean; engineHost: string | undefined; dockerContext: string | undefined },
  ): Promise<RunOptions> {
    const { debugEnabled } = await import('../render/errors.js');
    return {
      file: definition.file,
      params: definition.params,
      reportFile: flags.report,
      quiet: flags.quiet,
      follow: flags.follow,
      debug: debugEnabled(this.debug, this.context.env),
      recordDir: undefined,
      replayDir: undefined,
      engine: engineSelection(flags),
    };
  }
}
