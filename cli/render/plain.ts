// Plain output for logs and pipes (and for `--follow` on a terminal): one timestamped line per
// thing that happened, never redrawn, e.g. `2026-11-23T09:00:00.000Z step build started`.
import type { Writable } from 'node:stream';
import type { RunEvent } from '../../lib/dag/events.js';
import type { RunReport } from '../../lib/dag/report.js';
import { FollowWriter } from './follow.js';
import { formatDuration, type Colour, type Paint } from './format.js';
import { PullSummaries } from './pull-progress.js';
import type { FinishInfo, RunRenderer } from './renderer.js';
import { RunState, type StepView } from './run-state.js';
import { errorLines, statusWords, summaryLine } from './summary.js';

const SLOW_SETUP_MS = 1000;

export interface PlainOptions {
  out: Writable;
  err: Writable;
  paint: Paint;
  stepNames: string[];
  follow: boolean;
  now?: () => Date;
}

export class PlainRenderer implements RunRenderer {
  readonly #out: Writable;
  readonly #err: Writable;
  readonly #paint: Paint;
  readonly #now: () => Date;
  readonly #state: RunState;
  readonly #pulls = new PullSummaries();
  readonly #follow: FollowWriter | undefined;

  constructor(opts: PlainOptions) {
    this.#out = opts.out;
    this.#err = opts.err;
    this.#paint = opts.paint;
    this.#now = opts.now ?? (() => new Date());
    this.#state = new RunState(opts.stepNames, () => this.#now().getTime());
    this.#follow = opts.follow ? new FollowWriter(opts.out, opts.err) : undefined;
  }

  onEvent(ev: RunEvent): void {
    const view = this.#state.apply(ev);
    switch (ev.type) {
      case 'run-start':
        // The log folder is said once, under the summary (`logs: …`), not here as well.
        this.#line(`run ${ev.runId} of ${ev.dag} started`);
        break;
      case 'startup-end': {
        // Every run has a set-up (at least a look for leftovers of dead runs); it is worth a
        // line when it failed or made the user wait, as a DAG-level container does.
        const took = this.#state.startup ? (this.#state.startup.endedMs ?? 0) - this.#state.startup.startedMs : 0;
        // A failed set-up is said once, by finish(): `run could not start: …`, with its hint.
        if (ev.error === undefined && took >= SLOW_SETUP_MS) this.#line(`set-up done (${formatDuration(took)})`);
        break;
      }
      case 'step-start':
        this.#line(`${kindOf(ev.handler)} ${ev.step} started${ev.attempt > 1 ? ` (attempt ${ev.attempt})` : ''}`);
        break;
      case 'step-retry':
        this.#line(`${kindOf(false)} ${ev.step} ${this.#paint('yellow', 'failed')}: ${ev.error}; attempt ${ev.attempt} in ${formatDuration(ev.delayMs)}`);
        break;
      case 'step-output':
        this.#follow?.write(ev.step, ev.stream, ev.chunk);
        break;
      case 'step-end':
        this.#follow?.flush(ev.step);
        if (view) this.#line(this.#describeEnd(view));
        break;
      case 'executor': {
        const event = ev.event;
        if (event.type === 'pull-done') {
          const line = this.#pulls.lineFor(event);
          if (line !== undefined) this.#line(line);
        } else if (event.type === 'warning') {
          this.#line(`${this.#paint('yellow', 'warning')}: ${event.step ? `step ${event.step}: ` : ''}${event.message}`);
        } else if (event.type === 'info') {
          this.#line(`${event.step ? `step ${event.step}: ` : ''}${event.message}`);
        }
        break;
      }
      default:
        // startup-start: see startup-end. cancel-requested is announced by the CLI's own notice;
        // run-end by finish().
        break;
    }
  }

  notice(text: string): void {
    this.#err.write(`${this.#now().toISOString()} ${text}\n`);
  }

  finish(report: RunReport, info: FinishInfo): void {
    this.#follow?.flush();
    this.#out.write(`${summaryLine(report, info.elapsedMs, this.#paint)}\n`);
    if (this.#state.logDir !== undefined) this.#out.write(`logs: ${this.#state.logDir}\n`);
    const errors = errorLines(report, info.cancelled, this.#state.startup?.hint);
    if (errors.length > 0) this.#err.write(errors.map((l) => `${l}\n`).join(''));
  }

  /** `step build succeeded (exit 0, 1.2s)`, `step build failed (exit 1): exit status 1`… */
  #describeEnd(view: StepView): string {
    const who = `${kindOf(view.handler)} ${view.name}`;
    const elapsedMs = this.#state.elapsedMs(view);
    const took = elapsedMs === undefined ? undefined : formatDuration(elapsedMs);
    const word = this.#paint(colourOf(view.state), statusWords(view.state));
    if (view.kept) return `${who} ${word} (kept from an earlier attempt)`;
    switch (view.state) {
      case 'succeeded':
      case 'partially_succeeded': {
        const facts = [view.exitCode === null ? undefined : `exit ${view.exitCode}`, took].filter((f) => f !== undefined);
        return `${who} ${word}${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`;
      }
      case 'failed':
        return `${who} ${word}${view.exitCode === null ? '' : ` (exit ${view.exitCode})`}${view.error === null ? '' : `: ${view.error}`}`;
      case 'cancelled':
        return `${who} ${word}${took === undefined ? '' : ` (${took})`}`;
      default:
        return `${who} ${word}${view.error === null ? '' : `: ${view.error}`}`;
    }
  }

  #line(text: string): void {
    this.#out.write(`${this.#now().toISOString()} ${text}\n`);
  }
}

function kindOf(handler: boolean): string {
  return handler ? 'handler' : 'step';
}

export function colourOf(state: string): Colour {
  switch (state) {
    case 'succeeded':
      return 'green';
    case 'partially_succeeded':
    case 'cancelled':
    case 'aborted':
      return 'yellow';
    case 'failed':
      return 'red';
    case 'running':
      return 'cyan';
    default:
      return 'dim';
  }
}
