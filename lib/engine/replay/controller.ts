// The controller a replayed exchange hands its undici handler: pause, resume and abort, as a
// live request's controller offers them.
import type { Dispatcher } from 'undici';
import { errors } from '../undici.js';

export class ReplayController implements Dispatcher.DispatchController {
  #paused = false;
  #aborted = false;
  #reason: Error | null = null;
  readonly #onResume: () => void;
  readonly #onAbort: (reason: Error) => void;

  constructor(onResume: () => void, onAbort: (reason: Error) => void) {
    this.#onResume = onResume;
    this.#onAbort = onAbort;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason ?? new errors.RequestAbortedError();
    this.#onAbort(this.#reason);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#onResume();
  }
}
