// Errors as the user sees them. A DAG file's problems are one `file:line:col: message` line
// each; any other SkiffError is `skiff: <message>` and its hint; anything else is our bug. The
// cause chain and stacks appear only with --debug (or SKIFF_DEBUG=1).
import { isAbsolute, relative } from 'node:path';
import type { Problem } from '../../lib/common/problem.js';
import { SkiffError, type Place } from '../../lib/common/errors.js';
import { exitCodeForError, isClipanionError } from '../exit-codes.js';

/** `--debug`, or SKIFF_DEBUG set to anything but empty, `0` or `false`. */
export function debugEnabled(flag: boolean | undefined, env: Record<string, string | undefined>): boolean {
  if (flag) return true;
  const value = env.SKIFF_DEBUG?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/**
 * A place as the user typed the path: relative to the working directory when the file is below
 * it (what editors and terminals turn into links), absolute otherwise.
 */
export function displayPlace(place: Place, cwd: string = process.cwd()): string {
  return `${displayPath(place.file, cwd)}:${place.line}:${place.col}`;
}

export function displayPath(file: string, cwd: string = process.cwd()): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(cwd, file);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

/** One `file:line:col: message` line per problem, in the order given. */
export function problemLines(problems: readonly Problem[], cwd?: string): string[] {
  return problems.map((p) => `${displayPlace(p.place, cwd)}: ${p.message}`);
}

/** `file:line:col: warning: …`: what a file asks for that skiff ignores (the run goes on). */
export function warningLines(warnings: readonly Problem[], cwd?: string): string[] {
  return warnings.map((p) => `${displayPlace(p.place, cwd)}: warning: ${p.message}`);
}

/** The lines printed for an error that reached the top of a command (no trailing newlines). */
export function describeError(err: unknown, debug: boolean): string[] {
  if (err instanceof SkiffError) {
    const where = err.place && !err.message.includes(`:${err.place.line}:`) ? `${displayPlace(err.place)}: ` : '';
    const lines = [`skiff: ${where}${err.message}`];
    if (err.hint) lines.push(`  hint: ${err.hint}`);
    if (debug) lines.push(...causeLines(err), ...stackLines(err));
    return lines;
  }
  const lines = [`skiff: internal error: ${messageOf(err)}`];
  if (debug) lines.push('  this is a bug in skiff: please report it with the output below', ...causeLines(err), ...stackLines(err));
  else lines.push('  this is a bug in skiff: please report it, with the output of the same command run with --debug');
  return lines;
}

function causeLines(err: unknown): string[] {
  const lines: string[] = [];
  const seen = new Set<unknown>([err]);
  let cause = (err as { cause?: unknown } | null)?.cause;
  while (cause !== undefined && cause !== null && !seen.has(cause)) {
    seen.add(cause);
    const code = (cause as { code?: unknown }).code;
    lines.push(`  caused by: ${messageOf(cause)}${typeof code === 'string' ? ` (${code})` : ''}`);
    cause = (cause as { cause?: unknown }).cause;
  }
  return lines;
}

function stackLines(err: unknown): string[] {
  const stack = err instanceof Error ? err.stack : undefined;
  if (!stack) return [];
  return stack.split('\n').filter((line) => /^\s+at /.test(line));
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

export interface FailureContext {
  stderr: { write(text: string): unknown };
  debug: boolean;
  /** clipanion's formatter for its own errors (usage text included). */
  formatUsageError?(err: Error): string;
}

/**
 * Prints an error that ended a command and returns the exit code for it: clipanion's usage
 * errors with the command's usage, SkiffErrors as message and hint, anything else as a bug.
 */
export function reportFailure(err: unknown, ctx: FailureContext): number {
  if (isClipanionError(err) && !(err instanceof SkiffError)) {
    ctx.stderr.write(ctx.formatUsageError ? ctx.formatUsageError(err) : `skiff: ${err.message}\n`);
  } else {
    ctx.stderr.write(describeError(err, ctx.debug).map((l) => `${l}\n`).join(''));
  }
  return exitCodeForError(err);
}
