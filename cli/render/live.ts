// The live view on a terminal: one line per step (file order; handlers join when they start)
// with a glyph, its state, its elapsed time and, while an image is pulled, a progress bar. The
// block is redrawn in place (cursor up, erase) on every event and at most every 100 ms otherwise.
import type { Writable } from 'node:stream';
import type { RunEvent } from '../../lib/dag/events.js';
import type { RunReport } from '../../lib/dag/report.js';
import { formatDuration, terminalSize, truncate, type Colour, type Paint } from './format.js';
import { colourOf } from './plain.js';
import { describePull } from './pull-progress.js';
import type { FinishInfo, RunRenderer } from './renderer.js';
import { RunState, type StepView } from './run-state.js';
import { errorLines, statusWords, summaryLine } from './summary.js';

const FRAME_MS = 100;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const GLYPHS: Record<string, string> = {
  pending: '·',
  not_started: '·',
  succeeded: '✓',
  partially_succeeded: '✓',
  failed: '✗',
  skipped: '↷',
  aborted: '!',
  cancelled: '⊘',
};

// ESC[nA moves up n lines (n = 0 would still move one), ESC[2K erases the line, ESC[J the rest.
const up = (n: number): string => (n > 0 ? `\x1b[${n}A\r` : '\r');
const ERASE_LINE = '\x1b[2K';
const ERASE_BELOW = '\x1b[J';

type Segment = readonly [text: string, colour?: Colour];

export interface LiveOptions {
  out: Writable;
  err: Writable;
  paint: Paint;
  stepNames: string[];
  now?: () => number;
}

export class LiveRenderer implements RunRenderer {
  readonly #out: Writable;
  readonly #err: Writable;
  readonly #paint: Paint;
  readonly #now: () => number;
  readonly #state: RunState;
  #drawn = 0;
  #lastDrawMs = 0;
  #ticker: NodeJS.Timeout | undefined;
  #deferred: NodeJS.Timeout | undefined;
  #finished = false;

  constructor(opts: LiveOptions) {
    this.#out = opts.out;
    this.#err = opts.err;
    this.#paint = opts.paint;
    this.#now = opts.now ?? Date.now;
    this.#state = new RunState(opts.stepNames, this.#now);
  }

  onEvent(ev: RunEvent): void {
    if (this.#finished) return;
    this.#state.apply(ev);
    if (ev.type === 'run-start') {
      // The elapsed times move on their own; a tick that must not keep the process alive.
      this.#ticker ??= setInterval(() => this.#draw(), FRAME_MS).unref();
      this.#above(this.#out, `running ${ev.dag} (run ${ev.runId})`);
      return;
    }
    if (ev.type === 'executor' && (ev.event.type === 'warning' || ev.event.type === 'info')) {
      const { step, message } = ev.event;
      const label = ev.event.type === 'warning' ? `${this.#paint('yellow', 'warning')}: ` : '';
      this.#above(this.#out, `${label}${step ? `step ${step}: ` : ''}${message}`);
      return;
    }
    // Progress ticks can come by the hundred per second: those wait for the next frame.
    if (ev.type === 'executor' && ev.event.type === 'pull-progress') this.#drawSoon();
    else if (ev.type !== 'step-output') this.#draw();
  }

  notice(text: string): void {
    if (this.#finished) this.#err.write(`${text}\n`);
    else this.#above(this.#err, text);
  }

  finish(report: RunReport, info: FinishInfo): void {
    if (!this.#finished) {
      this.#finished = true;
      clearInterval(this.#ticker);
      clearTimeout(this.#deferred);
      // The last frame is final and never moved over again: it may be taller than the screen.
      this.#write(this.#frame(true));
    }
    this.#out.write(`${summaryLine(report, info.elapsedMs, this.#paint)}\n`);
    if (this.#state.logDir !== undefined) this.#out.write(`logs: ${this.#state.logDir}\n`);
    const errors = errorLines(report, info.cancelled, this.#state.startup?.hint);
    if (errors.length > 0) this.#err.write(errors.map((l) => `${this.#paint('red', l)}\n`).join(''));
  }

  /** Prints a line above the block: erase the block, write, draw it again below. */
  #above(stream: Writable, text: string): void {
    this.#out.write(up(this.#drawn) + ERASE_BELOW);
    this.#drawn = 0;
    stream.write(`${text}\n`);
    this.#draw();
  }

  #drawSoon(): void {
    if (this.#deferred) return;
    const wait = Math.max(0, this.#lastDrawMs + FRAME_MS - this.#now());
    this.#deferred = setTimeout(() => {
      this.#deferred = undefined;
      this.#draw();
    }, wait);
  }

  #draw(): void {
    if (this.#finished) return;
    clearTimeout(this.#deferred);
    this.#deferred = undefined;
    this.#write(this.#frame(false));
  }

  #write(lines: string[]): void {
    // One write per frame: the terminal never shows a half-erased block.
    this.#out.write(up(this.#drawn) + lines.map((l) => `${ERASE_LINE}${l}\n`).join('') + ERASE_BELOW);
    this.#drawn = lines.length;
    this.#lastDrawMs = this.#now();
  }

  #frame(final: boolean): string[] {
    const { columns, rows } = terminalSize(this.#out);
    // A line that wraps would throw off the cursor-up count: keep every line inside the screen.
    const width = Math.max(10, columns - 1);
    const views = this.#state.steps;
    const nameWidth = Math.min(30, Math.max(7, ...views.map((v) => v.name.length)));
    const lines: Segment[][] = [];
    const startup = this.#state.startup;
    // The set-up shows while it runs and when it failed; once done it is no longer news.
    if (startup && startup.state !== 'succeeded') {
      const took = formatDuration((startup.endedMs ?? this.#now()) - startup.startedMs);
      const extra = startup.pull ? describePull(startup.pull) : startup.error ?? '';
      lines.push(this.#row(this.#glyph(startup.state), 'set-up', nameWidth, startup.state, took, extra));
    }
    const shown = final ? views : this.#window(views, Math.max(3, rows - 2 - lines.length));
    for (const view of shown) lines.push(this.#stepRow(view, nameWidth));
    if (shown.length < views.length) lines.push([[`  … ${views.length - shown.length} more`, 'dim']]);
    return lines.map((segments) => this.#fit(segments, width));
  }

  /** When the steps do not fit, the running and failed ones matter most; file order is kept. */
  #window(views: StepView[], room: number): StepView[] {
    if (views.length <= room) return views;
    const keep = new Set<StepView>();
    const take = (pred: (v: StepView) => boolean): void => {
      for (const v of views) if (keep.size < room - 1 && pred(v)) keep.add(v);
    };
    take((v) => v.state === 'running');
    take((v) => v.state === 'failed');
    take((v) => v.state === 'pending');
    take(() => true);
    return views.filter((v) => keep.has(v));
  }

  #stepRow(view: StepView, nameWidth: number): Segment[] {
    const elapsed = this.#state.elapsedMs(view);
    const took = elapsed === undefined ? '' : formatDuration(elapsed);
    let extra = '';
    if (view.pull) extra = describePull(view.pull);
    else if (view.retryAtMs !== undefined) extra = `retry in ${formatDuration(view.retryAtMs - this.#now())}: ${view.error ?? ''}`;
    else if (view.state === 'running' && view.attempt > 1) extra = `attempt ${view.attempt}`;
    else if (view.error !== null && view.state !== 'cancelled') extra = view.error;
    if (view.kept) extra = 'kept from an earlier attempt';
    if (view.handler) extra = extra === '' ? '(handler)' : `(handler) ${extra}`;
    return this.#row(this.#glyph(view.state), view.name, nameWidth, view.state, took, extra);
  }

  #row(glyph: string, name: string, nameWidth: number, state: string, took: string, extra: string): Segment[] {
    const colour = colourOf(state);
    return [
      [`  ${glyph} `, colour],
      [truncate(name, nameWidth).padEnd(nameWidth)],
      [`  ${statusWords(state).padEnd(9)}`, colour],
      [`  ${took.padStart(6)}`, 'dim'],
      [extra === '' ? '' : `  ${extra}`, state === 'failed' ? 'red' : 'dim'],
    ];
  }

  #glyph(state: string): string {
    if (state === 'running') return SPINNER[Math.floor(this.#now() / FRAME_MS) % SPINNER.length]!;
    return GLYPHS[state] ?? '·';
  }

  /** Cuts a row to `width` visible columns, then colours it (escapes take no columns). */
  #fit(segments: Segment[], width: number): string {
    let room = width;
    let out = '';
    for (const [text, colour] of segments) {
      if (room <= 0 || text === '') continue;
      const cut = truncate(text.replace(/[\r\n\t]/g, ' '), room);
      room -= Array.from(cut).length;
      out += colour ? this.#paint(colour, cut) : cut;
    }
    return out;
  }
}
