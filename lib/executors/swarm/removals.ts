// When the services of finished swarm steps are removed. Removing one has its node stop and
// delete the task's container: disk and CPU work for the daemon that, done while the same run is
// starting other tasks there, makes those starts wait (docs/engine-api.md §13.4). So a finished
// step's removal is held while any service of the run is still starting its tasks, for at most
// MAX_HOLD_MS, and is done at once when nothing is starting; the run ends only once every
// removal is done. A stopped step (Ctrl-C) does not come here: it removes its service at once.
const MAX_HOLD_MS = 2_000;

export class Removals {
  /** Services whose tasks have not all started. */
  #starting = 0;
  readonly #held: Array<() => void> = [];
  readonly #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;

  /** A service that is starting its tasks: removals are held until the returned call (idempotent). */
  starting(): () => void {
    this.#starting++;
    let told = false;
    return () => {
      if (told) return;
      told = true;
      this.#starting--;
      if (this.#starting === 0) this.#release();
    };
  }

  /** Hands over a finished service's removal (`remove` never rejects). */
  add(remove: () => Promise<void>): void {
    this.#held.push(() => {
      const removed = remove();
      this.#running.add(removed);
      void removed.then(() => this.#running.delete(removed));
    });
    if (this.#starting === 0) this.#release();
    else this.#timer ??= setTimeout(() => this.#release(), MAX_HOLD_MS);
  }

  /** Does every removal now and waits until all are done (never rejects). */
  async close(): Promise<void> {
    this.#release();
    await Promise.all(this.#running);
  }

  #release(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const go of this.#held.splice(0)) go();
  }
}
