// What the renderers know about a run while it goes on, folded from the scheduler's events:
// one entry per step in file order, handlers appended when they start.
import type { RunEvent } from '../../lib/dag/events.js';
import type { StepStatus } from '../../lib/dag/report.js';
import type { PullView } from './pull-progress.js';

export type StepState = 'pending' | 'running' | StepStatus | 'partially_succeeded';

export interface StepView {
  name: string;
  handler: boolean;
  state: StepState;
  attempt: number;
  /** When the first attempt started (Date.now() clock); undefined for a step that never ran. */
  startedMs?: number;
  endedMs?: number;
  exitCode: number | null;
  error: string | null;
  /** Set while a retry waits: when the next attempt starts. */
  retryAtMs?: number;
  pull?: PullView;
  /** A retry kept the step's result from an earlier attempt: it did not run now. */
  kept?: boolean;
}

export interface StartupView {
  state: 'running' | 'succeeded' | 'failed';
  startedMs: number;
  endedMs?: number;
  error?: string;
  /** What to do about the error (an engine that is not there…). */
  hint?: string;
  pull?: PullView;
}

export class RunState {
  readonly steps: StepView[] = [];
  startup: StartupView | undefined;
  runId: string | undefined;
  logDir: string | undefined;
  cancelRequested = false;
  readonly #byKey = new Map<string, StepView>();
  readonly #now: () => number;

  constructor(stepNames: readonly string[], now: () => number = Date.now) {
    this.#now = now;
    for (const name of stepNames) this.#add(name, false);
  }

  /** Applies one event; returns the step it concerned, if any. */
  apply(ev: RunEvent): StepView | undefined {
    const now = this.#now();
    switch (ev.type) {
      case 'run-start':
        this.runId = ev.runId;
        this.logDir = ev.logDir;
        return undefined;
      case 'startup-start':
        this.startup = { state: 'running', startedMs: now };
        return undefined;
      case 'startup-end':
        if (this.startup) {
          this.startup.state = ev.error === undefined ? 'succeeded' : 'failed';
          this.startup.endedMs = now;
          delete this.startup.pull;
          if (ev.error !== undefined) this.startup.error = ev.error;
          if (ev.hint !== undefined) this.startup.hint = ev.hint;
        }
        return undefined;
      case 'step-start': {
        const view = this.#find(ev.step, ev.handler) ?? this.#add(ev.step, ev.handler);
        view.state = 'running';
        view.attempt = ev.attempt;
        view.startedMs ??= now;
        delete view.retryAtMs;
        return view;
      }
      case 'step-retry': {
        const view = this.#find(ev.step, false);
        if (view) {
          view.retryAtMs = now + ev.delayMs;
          view.error = ev.error;
        }
        return view;
      }
      case 'step-end': {
        const view = this.#find(ev.step, ev.handler) ?? this.#add(ev.step, ev.handler);
        view.state = ev.status;
        view.exitCode = ev.exitCode;
        view.error = ev.error;
        if (ev.kept) view.kept = true;
        if (view.startedMs !== undefined) view.endedMs = now;
        delete view.retryAtMs;
        delete view.pull;
        return view;
      }
      case 'cancel-requested':
        this.cancelRequested = true;
        return undefined;
      case 'executor': {
        const event = ev.event;
        if (event.type !== 'pull-start' && event.type !== 'pull-progress' && event.type !== 'pull-done') return undefined;
        // A pull for the DAG-level container belongs to no step: show it on the startup line.
        const view = this.#find(event.step, false) ?? this.#find(event.step, true);
        const holder: { pull?: PullView } | undefined = view ?? this.startup;
        if (!holder) return undefined;
        if (event.type === 'pull-start') holder.pull = { image: event.image, fraction: 0, layersDone: 0, layersKnown: 0 };
        else if (event.type === 'pull-progress') {
          holder.pull = { image: event.image, fraction: event.fraction, layersDone: event.layersDone, layersKnown: event.layersKnown };
        } else delete holder.pull;
        return view;
      }
      default:
        return undefined;
    }
  }

  /** The step's elapsed time: until now while it runs, until its end once finished. */
  elapsedMs(view: StepView): number | undefined {
    if (view.startedMs === undefined) return undefined;
    return (view.endedMs ?? this.#now()) - view.startedMs;
  }

  find(name: string, handler: boolean): StepView | undefined {
    return this.#find(name, handler);
  }

  #find(name: string, handler: boolean): StepView | undefined {
    return this.#byKey.get(keyOf(name, handler));
  }

  #add(name: string, handler: boolean): StepView {
    const view: StepView = { name, handler, state: 'pending', attempt: 0, exitCode: null, error: null };
    this.steps.push(view);
    this.#byKey.set(keyOf(name, handler), view);
    return view;
  }
}

function keyOf(name: string, handler: boolean): string {
  return `${handler ? 'h' : 's'}:${name}`;
}
