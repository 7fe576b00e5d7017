// The `skiff` command line: register the commands, parse, run, and turn every outcome into an
// exit code (cli/exit-codes.ts). Commands load the library lazily inside execute(), so `--help`
// and bad usage cost no more than clipanion itself.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Builtins, type BaseContext, type Cli, type Command } from 'clipanion';
import { CleanupCommand } from './commands/cleanup.js';
import { DryCommand } from './commands/dry.js';
import { GraphCommand } from './commands/graph.js';
import { HistoryCommand } from './commands/history.js';
import { LoadCommand } from './commands/load.js';
import { LogsCommand } from './commands/logs.js';
import { MigrateCommand } from './commands/migrate.js';
import { PackCommand } from './commands/pack.js';
import { RestartCommand } from './commands/restart.js';
import { RetryCommand } from './commands/retry.js';
import { RunCommand } from './commands/run.js';
import { SchemaCommand } from './commands/schema.js';
import { StatusCommand } from './commands/status.js';
import { StopCommand } from './commands/stop.js';
import { ValidateCommand } from './commands/validate.js';
import { EXIT_INTERNAL, EXIT_USAGE, isClipanionError } from './exit-codes.js';
import { colourEnabled } from './render/format.js';
import { exitCodeForSignal, processSignalHub } from './signals.js';
import { HelpCommand, SkiffCli, VersionCommand } from './usage.js';

/** Set by the single-file bundle (scripts/bundle.mjs), where package.json is not beside the code. */
declare const SKIFF_BUNDLED_VERSION: string | undefined;

export function packageVersion(): string {
  if (typeof SKIFF_BUNDLED_VERSION === 'string') return SKIFF_BUNDLED_VERSION;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

/** `colour`: help and usage on stdout may carry colour escapes (cli/render/format.ts decides). */
export function createCli(colour = false): Cli {
  const cli = new SkiffCli({ binaryLabel: 'skiff', binaryName: 'skiff', binaryVersion: packageVersion(), enableCapture: false, colour });
  cli.register(RunCommand);
  cli.register(ValidateCommand);
  cli.register(SchemaCommand);
  cli.register(CleanupCommand);
  cli.register(MigrateCommand);
  cli.register(DryCommand);
  cli.register(StatusCommand);
  cli.register(HistoryCommand);
  cli.register(LogsCommand);
  cli.register(GraphCommand);
  cli.register(StopCommand);
  cli.register(RestartCommand);
  cli.register(RetryCommand);
  cli.register(PackCommand);
  cli.register(LoadCommand);
  cli.register(Builtins.HelpCommand);
  cli.register(HelpCommand);
  cli.register(VersionCommand);
  return cli;
}

/** Runs `skiff ARGS…` and resolves to the exit code; never rejects. */
export async function main(argv: string[], context: Partial<BaseContext> = {}): Promise<number> {
  const stdout = context.stdout ?? process.stdout;
  const stderr = context.stderr ?? process.stderr;
  const env = context.env ?? process.env;
  const full: BaseContext = {
    stdin: context.stdin ?? process.stdin,
    stdout,
    stderr,
    env,
    colorDepth: context.colorDepth ?? (colourEnabled(stdout, env) ? 8 : 1),
  };
  try {
    const cli = createCli(full.colorDepth > 1);
    let command: Command;
    try {
      command = cli.process(argv, full);
    } catch (err) {
      // clipanion prints its parse errors to stdout and exits 1; bad usage is 2 on stderr here.
      if (!isClipanionError(err)) throw err;
      stderr.write(withNewline(cli.error(err, { colored: colourEnabled(stderr, env) })));
      const { reportOptionOf, writeUsageReport } = await import('./report-file.js');
      const reportFile = reportOptionOf(argv);
      if (reportFile !== undefined) await writeUsageReport(reportFile, err.message);
      return EXIT_USAGE;
    }
    return await cli.run(command, full);
  } catch (err) {
    // Commands report their own errors; anything reaching this point is a bug in skiff.
    const { describeError, debugEnabled } = await import('./render/errors.js');
    stderr.write(describeError(err, debugEnabled(argv.includes('--debug'), env)).map((l) => `${l}\n`).join(''));
    return EXIT_INTERNAL;
  }
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

// After the command returns, output that cannot drain (a reader that stopped reading) must not
// keep `skiff` from exiting: the exit code is known, so leave it a bounded moment.
const EXIT_GRACE_MS = 3000;

/**
 * What bin/skiff.js calls: run, set the exit code, never leave a promise rejection unhandled
 * (a leaked one is reported as an internal error and makes the exit code 70).
 */
export async function runExit(argv: string[]): Promise<void> {
  // The skiff process is ours, so is this V8 setting: its engine traffic is a few hundred small
  // HTTP exchanges, and letting V8 optimise undici's llhttp parser (WebAssembly) costs ~30 MB of
  // peak RSS and ~150 ms of CPU a run for no speed we can measure. Set before the first
  // connection compiles the parser; the library itself never touches process-wide settings.
  setFlagsFromString('--liftoff-only');
  let leaked = false;
  const onRejection = (reason: unknown): void => {
    leaked = true;
    void import('./render/errors.js').then(({ describeError, debugEnabled }) => {
      process.stderr.write(describeError(reason, debugEnabled(argv.includes('--debug'), process.env)).map((l) => `${l}\n`).join(''));
    });
  };
  process.on('unhandledRejection', onRejection);
  const signals = processSignalHub();
  // `skiff run … | head`, a closed terminal: once the reader is gone (EPIPE, EIO) output is
  // dropped, but the run goes on to its end and its cleanup instead of dying with steps running.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', dropOutput);
  const code = await main(argv);
  // A signal no command took charge of (validate, help) ends the command as it would have been
  // ended by the signal; one that lands from now on, while sockets close, changes nothing.
  const unclaimed = signals.claimed ? undefined : signals.received[0];
  process.exitCode = leaked ? EXIT_INTERNAL : unclaimed !== undefined ? exitCodeForSignal(unclaimed) : code;
  signals.claimed = true;
  signals.listener = undefined;
  // Exit here, once stdout and stderr are written out, rather than when the event loop runs dry:
  // on that way out Node closes its signal handles, which gives SIGINT back its default action,
  // and a Ctrl-C landing then killed skiff after its report (`signal SIGINT` instead of 130).
  setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => {
    if (stream.destroyed || stream.writableEnded) resolve();
    else stream.write('', () => resolve());
  })));
  process.exit();
}

function dropOutput(): void {}
