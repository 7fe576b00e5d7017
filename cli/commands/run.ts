// `skiff run FILE`: load the DAG, run it, show it, write the report, exit with the run's code.
// The command only gathers options; the flow below calls the library and the renderers.
import { Command, Option, UsageError } from 'clipanion';
import type { Writable } from 'node:stream';
import type { Dag, RunReport } from '../../lib/run.js';
import { splitParams } from '../../lib/dag/params-text.js';
import { EXIT_FAILED, EXIT_USAGE } from '../exit-codes.js';

/** Everything `skiff run` was asked to do. New options (--record, --replay…) add fields here. */
export interface RunOptions {
  file: string;
  /** `--params` split into words, then the arguments after `--`, in that order. */
  params: string[];
  reportFile: string | undefined;
  quiet: boolean;
  follow: boolean;
  debug: boolean;
  /** `--record DIR`: write every exchange with the engine to DIR/engine.jsonl. */
  recordDir: string | undefined;
  /** `--replay DIR`: serve the engine from DIR's recording; no daemon needed. */
  replayDir: string | undefined;
}

export interface RunIO {
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
}

export class RunCommand extends Command {
  static override paths = [['run']];

  static override usage = Command.Usage({
    description: 'run a DAG file',
    details: `
      Runs the steps of a DAG file, locally or in Docker containers, in dependency order. On a
      terminal each step's state is shown live; elsewhere (CI logs, pipes) every change is one
      timestamped line. Step output goes to log files under the run's directory
      (\`$SKIFF_STATE_DIR\`, else \`$XDG_STATE_HOME/skiff\`, else \`~/.local/state/skiff\`), and is also
      printed with \`--follow\`.

      Parameters override the DAG's \`params\`: a plain value replaces the positional parameter at the
      same position, \`NAME=value\` the named one. They come from \`--params\` (split as \`params:\` in
      a DAG file is: by spaces; double-quote a value that has spaces) and from the arguments after
      \`--\` (one parameter each).

      Ctrl-C cancels the run: running steps are stopped, the cancel and exit handlers run, and
      skiff exits 130 once everything it started has stopped. A second Ctrl-C kills the steps at once.
      SIGTERM and SIGHUP (the terminal closed) do the same and exit 143 and 129.

      Exit codes: 0 every step succeeded; 1 a step or a handler failed, or the run could not start;
      2 the DAG file is invalid or the command line is wrong; 130 cancelled (129, 143 by SIGHUP,
      SIGTERM); 70 internal error.
    `,
    examples: [
      ['Run a DAG', '$0 run build.yaml'],
      ['Run with parameters', '$0 run deploy.yaml --params "staging TAG=1.4.2"'],
      ['Same, with the parameters after --', '$0 run deploy.yaml -- staging TAG=1.4.2'],
      ['Stream step output and write a report for CI', '$0 run -f --report report.json build.yaml'],
      ['Record the engine traffic of a run, then replay it without Docker', '$0 run --record rec/ build.yaml && $0 run --replay rec/ build.yaml'],
    ],
  });

  params = Option.Array('--params,-p', [], {
    description: 'Parameters: positional values or NAME=value, separated by spaces (may be repeated)',
  });

  report = Option.String('--report', {
    description: 'Write the run report (JSON) to this file, on every outcome',
  });

  quiet = Option.Boolean('--quiet,-q', false, { description: 'Print only errors and the final summary line' });

  follow = Option.Boolean('--follow,-f', false, { description: "Print each step's output as it arrives, prefixed by the step name" });

  record = Option.String('--record', {
    description: 'Record every exchange with the Docker engine into this directory (secrets redacted)',
  });

  replay = Option.String('--replay', {
    description: 'Run against a recording made with --record instead of a Docker engine',
  });

  debug = Option.Boolean('--debug', false, { description: 'Show the cause chain and stack of an error' });

  file = Option.String({ name: 'FILE' });

  extraParams = Option.Rest({ name: 'params' });

  async execute(): Promise<number> {
    try {
      const { debugEnabled } = await import('../render/errors.js');
      return await executeRun(this.runOptions(debugEnabled(this.debug, this.context.env)), this.context);
    } catch (err) {
      const [{ debugEnabled, reportFailure }, { colourEnabled }, { writeUsageReport }] = await Promise.all([
        import('../render/errors.js'),
        import('../render/format.js'),
        import('../report-file.js'),
      ]);
      // A bad command line (exit 2) still leaves the report CI waits for.
      if (this.report !== undefined && err instanceof UsageError) await writeUsageReport(this.report, err.message);
      const colored = colourEnabled(this.context.stderr, this.context.env);
      return reportFailure(err, {
        stderr: this.context.stderr,
        debug: debugEnabled(this.debug, this.context.env),
        // MiniCli's type leaves `colored` out; the Cli behind it takes it.
        formatUsageError: (e) => `${this.cli.error(e, { command: this, colored } as { command: Command }).trimEnd()}\n`,
      });
    }
  }

  runOptions(debug: boolean): RunOptions {
    if (this.quiet && this.follow) throw new UsageError('--quiet and --follow cannot be used together');
    if (this.record !== undefined && this.replay !== undefined) throw new UsageError('--record and --replay cannot be used together');
    const params: string[] = [];
    for (const text of this.params) {
      const split = splitParams(text);
      if ('error' in split) throw new UsageError(`--params: ${split.error}`);
      params.push(...split.tokens);
    }
    params.push(...this.extraParams);
    return { file: this.file, params, reportFile: this.report, quiet: this.quiet, follow: this.follow, debug, recordDir: this.record, replayDir: this.replay };
  }
}

/**
 * load → the library's runDagFile (rendered live) → report → exit code.
 * The report file, when asked for, is written on every path: load errors, a run that could not
 * start, a cancel, and our own bugs.
 */
export async function executeRun(opts: RunOptions, io: RunIO): Promise<number> {
  const [{ loadDagFile, runDagFile, failedBeforeSteps, DagLoadError }, { problemLines, warningLines, describeError, messageOf }, { reportFileProblem, writeReportFile }] = await Promise.all([
    import('../../lib/run.js'),
    import('../render/errors.js'),
    import('../report-file.js'),
  ]);
  if (opts.reportFile !== undefined) {
    const problem = await reportFileProblem(opts.reportFile);
    if (problem !== undefined) {
      io.stderr.write(`skiff: ${problem}\n`);
      return EXIT_USAGE;
    }
  }
  const writeReport = async (report: RunReport): Promise<boolean> => {
    if (opts.reportFile === undefined) return true;
    try {
      await writeReportFile(opts.reportFile, report);
      return true;
    } catch (err) {
      io.stderr.write(`skiff: cannot write the report ${opts.reportFile}: ${messageOf(err)}\n`);
      return false;
    }
  };

  let dag: Dag;
  try {
    dag = await loadDagFile(opts.file, { params: opts.params, env: io.env });
  } catch (err) {
    if (err instanceof DagLoadError) {
      const lines = problemLines(err.problems);
      io.stderr.write(lines.map((l) => `${l}\n`).join(''));
      await writeReport(failedBeforeSteps('load', lines.join('\n')));
      return EXIT_USAGE;
    }
    await writeReport(failedBeforeSteps('load', err instanceof Error ? err.message : String(err)));
    throw err;
  }
  io.stderr.write(warningLines(dag.warnings).map((l) => `${l}\n`).join(''));
  const stepNames = dag.steps.map((s) => s.name);

  const [{ createRunRenderer }, { trapInterrupts, exitCodeForSignal }] = await Promise.all([import('../render/renderer.js'), import('../signals.js')]);
  const renderer = createRunRenderer({ stdout: io.stdout, stderr: io.stderr, env: io.env, stepNames, quiet: opts.quiet, follow: opts.follow });
  const interrupts = trapInterrupts({
    onCancel: () => renderer.notice('cancelling… (press Ctrl-C again to force)'),
    onForce: () => renderer.notice('forcing: killing every running step…'),
  });

  const startedMs = Date.now();
  let result: Awaited<ReturnType<typeof runDagFile>>;
  try {
    result = await runDagFile(dag, {
      signal: interrupts.signal,
      forceSignal: interrupts.forceSignal,
      onEvent: (ev) => renderer.onEvent(ev),
      follow: opts.follow,
      env: io.env,
      recordDir: opts.recordDir,
      replayDir: opts.replayDir,
    });
  } catch (err) {
    // runDagFile reports failures as results; reaching here is a bug (exit 70, reported by the
    // caller), but the report still gets written.
    await writeReport(failedBeforeSteps('startup', `internal error: ${messageOf(err)}`, stepNames));
    interrupts.dispose();
    throw err;
  }

  // 128 + the signal that cancelled the run: 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP.
  const exitCode = interrupts.cancelledBy ? exitCodeForSignal(interrupts.cancelledBy) : result.exitCode;
  try {
    if (result.startupError) {
      // No engine, bad credentials store…: the run never started; a failed run, not bad input.
      io.stderr.write(describeError(result.startupError, opts.debug).map((l) => `${l}\n`).join(''));
      await writeReport(result.report);
      return exitCode;
    }
    const unused = result.unusedRecorded;
    if (unused.length > 0) io.stderr.write(`skiff: warning: the run did not make ${unused.length} recorded request(s), e.g. ${unused[0]}\n`);
    renderer.finish(result.report, { elapsedMs: Date.now() - startedMs, cancelled: interrupts.cancelled });
    const written = await writeReport(result.report);
    return written || exitCode !== 0 ? exitCode : EXIT_FAILED;
  } finally {
    interrupts.dispose();
  }
}
