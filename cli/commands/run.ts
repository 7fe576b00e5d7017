// `skiff run FILE`: load the DAG, run it, show it, write the report, exit with the run's code.
// The command only gathers options; the flow below calls the library and the renderers.
import { Command, Option, UsageError } from 'clipanion';
import type { Writable } from 'node:stream';
import type { AttemptRecorder } from '../../lib/dag/history/recorder.js';
import type { StepRecord } from '../../lib/dag/history/record.js';
import type { Dag, RunEvent, RunReport } from '../../lib/run.js';
import type { EngineSelection } from '../../lib/engine/context.js';
import { paramsFromCli } from './params-option.js';
import { EXIT_FAILED, EXIT_USAGE } from '../exit-codes.js';
import { SkiffError } from '../../lib/common/errors.js';
import { VerbCommand } from './verb.js';
import { contextOption, engineSelection, hostOption } from './engine-options.js';

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
  /** `--dir DIR`: where a pack's DAG files are unpacked (default beside the pack). */
  unpackDir?: string | undefined;
  /** `-H` / `-c`: the engine, over DOCKER_HOST and the docker context. */
  engine?: EngineSelection;
}

export interface RunIO {
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
}

export class RunCommand extends VerbCommand {
  static override paths = [['run']];

  static override usage = Command.Usage({
    description: 'run a DAG file, or a pack made by `skiff pack`',
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

      Docker steps run on the engine the docker CLI would use: \`-H\` or \`--context\`, else
      DOCKER_HOST, else DOCKER_CONTEXT, else the current docker context, else the local socket.
      \`ssh://[user@]host\` runs \`docker system dial-stdio\` there through the system ssh
      (SKIFF_SSH_OPTS adds options to its command line, e.g. \`-F ci/ssh_config\`).

      Ctrl-C cancels the run: running steps are stopped, the cancel and exit handlers run, and
      skiff exits 130 once everything it started has stopped. A second Ctrl-C kills the steps at once.
      SIGTERM and SIGHUP (the terminal closed) do the same and exit 143 and 129.

      FILE may also be a pack written by \`skiff pack\`: every member's sha256 is checked first,
      the DAG and its files are unpacked beside the pack (or into \`--dir\`), the images the engine
      lacks are loaded from it, and the DAG runs as it would from its file. Pull policy \`always\`
      is treated as \`missing\` for the images that came in the pack.

      Exit codes: 0 every step succeeded; 1 a step or a handler failed, or the run could not start;
      2 the DAG file is invalid or the command line is wrong; 130 cancelled (129, 143 by SIGHUP,
      SIGTERM); 70 internal error.
    `,
    examples: [
      ['Run a DAG', '$0 run build.yaml'],
      ['Run with parameters', '$0 run deploy.yaml --params "staging TAG=1.4.2"'],
      ['Same, with the parameters after --', '$0 run deploy.yaml -- staging TAG=1.4.2'],
      ['Stream step output and write a report for CI', '$0 run -f --report report.json build.yaml'],
      ['Run a pack on an air-gapped host', '$0 run build.pack.tar'],
      ['Record the engine traffic of a run, then replay it without Docker', '$0 run --record rec/ build.yaml && $0 run --replay rec/ build.yaml'],
      ['Run the Docker steps on a remote engine over ssh', '$0 run -H ssh://user@build-host build.yaml'],
      ['Run against a docker context', '$0 run --context colima build.yaml'],
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

  engineHost = hostOption();

  // Not `context`: clipanion's Command has its own.
  dockerContext = contextOption();

  dir = Option.String('--dir', { description: "Where a pack's DAG files are unpacked (default: beside the pack, named after it)" });

  file = Option.String({ name: 'FILE' });

  extraParams = Option.Rest({ name: 'params' });

  async run(): Promise<number> {
    const { debugEnabled } = await import('../render/errors.js');
    let opts: RunOptions;
    try {
      opts = this.runOptions(debugEnabled(this.debug, this.context.env));
    } catch (err) {
      // A bad command line (exit 2) still leaves the report CI waits for.
      if (this.report !== undefined && err instanceof UsageError) await (await import('../report-file.js')).writeUsageReport(this.report, err.message);
      throw err;
    }
    return executeRun(opts, this.context);
  }

  runOptions(debug: boolean): RunOptions {
    if (this.quiet && this.follow) throw new UsageError('--quiet and --follow cannot be used together');
    if (this.record !== undefined && this.replay !== undefined) throw new UsageError('--record and --replay cannot be used together');
    const params = paramsFromCli(this.params, this.extraParams);
    const engine = engineSelection(this);
    return { file: this.file, params, reportFile: this.report, quiet: this.quiet, follow: this.follow, debug, recordDir: this.record, replayDir: this.replay, engine, unpackDir: this.dir };
  }
}

/**
 * load → a new run in the history → the library's runDagFile (rendered live) → report → exit
 * code. The report file, when asked for, is written on every path: load errors, a run that could
 * not start, a cancel, and our own bugs.
 */
export async function executeRun(opts: RunOptions, io: RunIO): Promise<number> {
  const [{ loadDagFile, failedBeforeSteps, DagLoadError }, { problemLines, warningLines, describeError }, { readFile }, { newRunId }, { exitCodeForError }, { reportFileProblem }] = await Promise.all([
    import('../../lib/run.js'),
    import('../render/errors.js'),
    import('node:fs/promises'),
    import('../../lib/dag/run-dir.js'),
    import('../exit-codes.js'),
    import('../report-file.js'),
  ]);
  if (opts.reportFile !== undefined) {
    // A folder or a place that takes no files would lose the report at the end of a long run.
    const problem = await reportFileProblem(opts.reportFile);
    if (problem !== undefined) {
      io.stderr.write(`skiff: ${problem}\n`);
      return EXIT_USAGE;
    }
  }
  const writeReport = reportWriter(opts.reportFile, io);
  let text: string | undefined;
  let dag: Dag;
  let notice: string | undefined;
  try {
    const fromPack = await openPackRun(opts, io);
    if (fromPack === 'not a pack' && opts.unpackDir !== undefined) throw new SkiffError('usage', `--dir is for a pack made by \`skiff pack\`, and ${opts.file} is not one`);
    // Read once: the text that is loaded is the text the run's history keeps (retry runs it again).
    text = await readFile(fromPack === 'not a pack' ? opts.file : fromPack.dag.file, 'utf8').catch(() => undefined);
    if (fromPack === 'not a pack') dag = await loadDagFile(opts.file, { params: opts.params, env: io.env, ...(text !== undefined ? { text } : {}) });
    else ({ dag, notice } = fromPack);
  } catch (err) {
    if (err instanceof SkiffError && !(err instanceof DagLoadError)) {
      // A pack that is wrong, an engine that refused an image: nothing ran; exit as for bad input or a failed start.
      io.stderr.write(describeError(err, opts.debug).map((l) => `${l}\n`).join(''));
      await writeReport(failedBeforeSteps('load', err.message));
      return exitCodeForError(err);
    }
    if (err instanceof DagLoadError) {
      const lines = problemLines(err.problems);
      io.stderr.write(lines.map((l) => `${l}\n`).join(''));
      await writeReport(failedBeforeSteps('load', lines.join('\n')));
      return EXIT_USAGE;
    }
    await writeReport(failedBeforeSteps('load', err instanceof Error ? err.message : String(err)));
    throw err;
  }
  io.stderr.write(warningLines(dag.warnings ?? []).map((l) => `${l}\n`).join(''));
  return runAttempt({ dag, runId: newRunId(), trigger: 'start', params: opts.params, text: text ?? '', ...(notice !== undefined ? { notice } : {}) }, opts, io);
}

/** One attempt of a run: a first start (`run`, `restart`) or a `retry` of an earlier run. */
export interface AttemptPlan {
  dag: Dag;
  runId: string;
  trigger: 'start' | 'retry' | 'restart';
  params: string[];
  /** The DAG file's text, kept as the run's definition; a retry has it already. */
  text?: string;
  /** A retry: the steps kept from the earlier attempt, with their records. */
  kept?: ReadonlyMap<string, StepRecord>;
  /** Said once when the run starts (a run from a pack: pull policies it changed). */
  notice?: string;
}

/**
 * Opens the attempt in the run's history, runs it (rendered live, stoppable by Ctrl-C or
 * `skiff stop`), records every event, writes the report and returns the exit code.
 */
export async function runAttempt(plan: AttemptPlan, opts: RunOptions, io: RunIO): Promise<number> {
  const [{ runDagFile, failedBeforeSteps }, { describeError, messageOf }, { AttemptRecorder }, { keptSteps }, cancel, { createRunRenderer }, { trapInterrupts }] = await Promise.all([
    import('../../lib/run.js'),
    import('../render/errors.js'),
    import('../../lib/dag/history/recorder.js'),
    import('../../lib/dag/history/retry-plan.js'),
    import('../../lib/dag/history/cancel.js'),
    import('../render/renderer.js'),
    import('../signals.js'),
  ]);
  const { exitCodeForSignal } = await import('../signals.js');
  const { dag, runId } = plan;
  const writeReport = reportWriter(opts.reportFile, io);
  const stepNames = dag.steps.map((s) => s.name);

  // Before the pid file exists: from then on a `skiff stop` may signal this process.
  trapStopSignal(cancel.STOP_SIGNAL);
  let recorder: AttemptRecorder;
  try {
    recorder = await AttemptRecorder.open({
      dag,
      runId,
      trigger: plan.trigger,
      params: plan.params,
      env: io.env,
      ...(plan.text !== undefined ? { text: plan.text } : {}),
      ...(plan.kept ? { kept: plan.kept } : {}),
    });
  } catch (err) {
    const error = `cannot record the run in ${io.env.SKIFF_STATE_DIR ?? 'the state directory'}: ${messageOf(err)}`;
    io.stderr.write(`skiff: ${error}\n`);
    await writeReport(failedBeforeSteps('startup', error, stepNames));
    return EXIT_FAILED;
  }
  const renderer = createRunRenderer({ stdout: io.stdout, stderr: io.stderr, env: io.env, stepNames, quiet: opts.quiet, follow: opts.follow });
  const interrupts = trapInterrupts({
    onCancel: () => renderer.notice('cancelling… (press Ctrl-C again to force)'),
    onForce: () => renderer.notice('forcing: killing every running step…'),
  });
  if (plan.notice !== undefined) renderer.notice(plan.notice);
  const stop = watchStopRequests(cancel, recorder.dir, () => {
    if (interrupts.cancelled) return false;
    renderer.notice('stop requested (skiff stop): cancelling…');
    return true;
  });
  const cancelled = (): boolean => interrupts.cancelled || stop.signal.aborted;
  const finishRecord = async (): Promise<void> => {
    stop.dispose();
    await recorder.close();
    if (recorder.error) io.stderr.write(`skiff: warning: cannot write the run's history in ${recorder.dir}: ${recorder.error.message}\n`);
  };

  const startedMs = Date.now();
  let result: Awaited<ReturnType<typeof runDagFile>>;
  try {
    result = await runDagFile(dag, {
      runId,
      logDir: recorder.dir,
      signal: AbortSignal.any([interrupts.signal, stop.signal]),
      forceSignal: interrupts.forceSignal,
      onEvent: (ev: RunEvent) => {
        recorder.onEvent(ev);
        renderer.onEvent(ev);
      },
      follow: opts.follow,
      env: io.env,
      recordDir: opts.recordDir,
      replayDir: opts.replayDir,
      engine: opts.engine,
      ...(plan.kept ? { kept: keptSteps(plan.kept, dag.steps) } : {}),
    });
  } catch (err) {
    // runDagFile reports failures as results; reaching here is a bug (exit 70, reported by the
    // caller), but the report still gets written.
    const failed = failedBeforeSteps('startup', `internal error: ${messageOf(err)}`, stepNames);
    recorder.onEvent({ type: 'run-end', report: failed });
    await finishRecord();
    await writeReport(failed);
    interrupts.dispose();
    throw err;
  }
  // A run that could not start emitted no run-end: its record ends here.
  if (result.startupError) recorder.onEvent({ type: 'run-end', report: result.report });
  await finishRecord();

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
    renderer.finish(result.report, { elapsedMs: Date.now() - startedMs, cancelled: cancelled() });
    const written = await writeReport(result.report);
    return written || exitCode !== 0 ? exitCode : EXIT_FAILED;
  } finally {
    interrupts.dispose();
  }
}

let stopSignalHandler: (() => void) | undefined;
let stopSignalTrapped = false;

/**
 * One listener for the process's life: a stop signal that lands after the run ended (the stopper
 * read the record just before it became final) must not kill the process (its default action).
 */
function trapStopSignal(signal: NodeJS.Signals): void {
  if (stopSignalTrapped) return;
  stopSignalTrapped = true;
  process.on(signal, () => stopSignalHandler?.());
}

/**
 * `skiff stop` from another terminal: the cancel flag in the attempt's directory (watched), and
 * its wake-up signal for where the watch is slow (polled). The flag says what is wanted, so a
 * stray signal alone cancels nothing. `accept` is asked once; false ignores the request (a Ctrl-C
 * came first).
 */
function watchStopRequests(
  cancel: typeof import('../../lib/dag/history/cancel.js'),
  attemptDir: string,
  accept: () => boolean,
): { signal: AbortSignal; dispose(): void } {
  const ctrl = new AbortController();
  const onRequest = (): void => {
    if (!ctrl.signal.aborted && accept()) ctrl.abort(new SkiffError('aborted', 'stopped by skiff stop'));
  };
  stopSignalHandler = () => {
    if (cancel.cancelRequested(attemptDir)) onRequest();
  };
  const unwatch = cancel.watchCancelFlag(attemptDir, onRequest);
  return {
    signal: ctrl.signal,
    dispose() {
      unwatch();
      stopSignalHandler = undefined;
    },
  };
}

/**
 * `skiff run PACK`: check, unpack and load it (progress on stderr), then the DAG from its unpacked
 * file. 'not a pack' for anything else, which is then loaded as a DAG file.
 */
async function openPackRun(opts: RunOptions, io: RunIO): Promise<'not a pack' | { dag: Dag; notice?: string }> {
  const { isPackFile } = await import('../../lib/pack/detect.js');
  if (!(await isPackFile(opts.file))) return 'not a pack';
  const { preparePackRun } = await import('../../lib/pack/index.js');
  const [{ createPackProgress }, { trapInterrupts }] = await Promise.all([import('../render/pack-progress.js'), import('../signals.js')]);
  const view = createPackProgress(io.stderr, { quiet: opts.quiet });
  const interrupts = trapInterrupts({ onCancel: () => view.line('cancelling…') });
  try {
    const prepared = await preparePackRun(opts.file, { dir: opts.unpackDir, params: opts.params, env: io.env, selection: opts.engine, signal: interrupts.signal, onEvent: (ev) => view.onEvent(ev) });
    if (prepared.loaded.length === 0 && !opts.quiet) view.line(`nothing to load: the engine has all ${prepared.present.length} image(s) of the pack`);
    const notices = [
      ...(prepared.pullChanged.length === 0 ? [] : [`pull policy \`always\` is treated as \`missing\` for the images that came in the pack (${prepared.pullChanged.join(', ')}): nothing can be pulled here`]),
      ...(prepared.swarmPinned.length === 0
        ? []
        : [`swarm steps run the engine's own copy of the images that came in the pack, as \`pull: never\` (${prepared.swarmPinned.join(', ')}): nothing can be pulled here, so a node other than this engine's runs them only if the pack was loaded there too`]),
    ];
    const notice = notices.length === 0 ? undefined : notices.join('\n');
    return { dag: prepared.dag, notice };
  } finally {
    view.done();
    interrupts.dispose();
  }
}

/** `--report FILE`: written atomically; a failure to write is said, and returned as false. */
function reportWriter(reportFile: string | undefined, io: RunIO): (report: RunReport) => Promise<boolean> {
  return async (report) => {
    if (reportFile === undefined) return true;
    try {
      await (await import('../report-file.js')).writeReportFile(reportFile, report);
      return true;
    } catch (err) {
      io.stderr.write(`skiff: cannot write the report ${reportFile}: ${err instanceof Error ? err.message : String(err)}\n`);
      return false;
    }
  };
}
