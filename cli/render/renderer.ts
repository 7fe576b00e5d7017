// How `skiff run` shows a run: which renderer for which terminal, and what they all share.
// The library emits events and never prints; everything the user sees of a run is chosen here.
import type { Writable } from 'node:stream';
import type { RunEvent } from '../../lib/dag/events.js';
import type { RunReport } from '../../lib/dag/report.js';
import { colourEnabled, isTTY, painter } from './format.js';
import { LiveRenderer } from './live.js';
import { PlainRenderer } from './plain.js';
import { errorLines, summaryLine } from './summary.js';

export interface FinishInfo {
  /** Wall time of the run, from the call to runDag until it returned. */
  elapsedMs: number;
  /** The user cancelled (the run's own error then says nothing more). */
  cancelled: boolean;
}

export interface RunRenderer {
  /** Every scheduler event; must not throw (runDag ignores what it throws anyway). */
  onEvent(ev: RunEvent): void;
  /** A message of the CLI's own (the Ctrl-C notice), to stderr, without breaking the view. */
  notice(text: string): void;
  /** Stops any redrawing and prints the end of the run: summary, log directory, errors. */
  finish(report: RunReport, info: FinishInfo): void;
}

export interface RendererOptions {
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
  /** The DAG's steps in file order. */
  stepNames: string[];
  quiet: boolean;
  follow: boolean;
}

/**
 * `--quiet`: the summary line and errors only. A terminal without `--follow`: the live view.
 * Anything else (CI logs, pipes, `--follow`): plain timestamped lines.
 */
export function createRunRenderer(opts: RendererOptions): RunRenderer {
  const paint = painter(colourEnabled(opts.stdout, opts.env));
  if (opts.quiet) return new QuietRenderer(opts.stdout, opts.stderr);
  if (isTTY(opts.stdout) && !opts.follow) return new LiveRenderer({ out: opts.stdout, err: opts.stderr, paint, stepNames: opts.stepNames });
  return new PlainRenderer({ out: opts.stdout, err: opts.stderr, paint, stepNames: opts.stepNames, follow: opts.follow });
}

class QuietRenderer implements RunRenderer {
  readonly #out: Writable;
  readonly #err: Writable;

  constructor(out: Writable, err: Writable) {
    this.#out = out;
    this.#err = err;
  }

  #startupHint: string | undefined;

  onEvent(ev: RunEvent): void {
    if (ev.type === 'startup-end' && ev.hint !== undefined) this.#startupHint = ev.hint;
  }

  notice(text: string): void {
    this.#err.write(`${text}\n`);
  }

  finish(report: RunReport, info: FinishInfo): void {
    this.#out.write(`${summaryLine(report, info.elapsedMs)}\n`);
    const errors = errorLines(report, info.cancelled, this.#startupHint);
    if (errors.length > 0) this.#err.write(errors.map((l) => `${l}\n`).join(''));
  }
}
