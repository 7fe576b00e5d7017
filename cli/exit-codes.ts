// The process exit codes of `skiff`. Scripts and CI branch on these, so they are part of the
// CLI's contract (README "Exit codes"); change neither without the other.
//
//   0    the command did what it was asked: a run in which every step succeeded (or was allowed
//        to fail by continueOn), a valid DAG file, the schema or the version printed.
//   1    the run failed: a step failed, a handler failed, or the run could not start (the
//        DAG-level container, an unreachable engine...). `exitCodeFor` in lib/dag decides.
//   2    bad input: an invalid DAG file (every problem is listed as file:line:col) or a bad
//        command line (unknown option, missing argument): the run never started.
//   70   an internal error, i.e. a bug in skiff (EX_SOFTWARE from sysexits.h).
//   130  cancelled by the user (SIGINT), after everything started was stopped (128 + SIGINT,
//        what shells report for a Ctrl-C); 143 for SIGTERM, 129 for SIGHUP (cli/signals.ts).
import { SkiffError } from '../lib/common/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;
export const EXIT_CANCELLED = 130;

/** The exit code for an error that reached the top of a command. */
export function exitCodeForError(err: unknown): number {
  if (err instanceof SkiffError) {
    if (err.kind === 'usage' || err.kind === 'config') return EXIT_USAGE;
    if (err.kind === 'aborted') return EXIT_CANCELLED;
    return EXIT_FAILED;
  }
  // clipanion's own parse errors (unknown option, missing argument) are usage errors too.
  if (isClipanionError(err)) return EXIT_USAGE;
  return EXIT_INTERNAL;
}

/** clipanion marks the errors meant for users (UsageError, UnknownSyntaxError...) with `clipanion`. */
export function isClipanionError(err: unknown): err is Error & { clipanion: { type: string } } {
  return err instanceof Error && typeof (err as { clipanion?: unknown }).clipanion === 'object';
}
