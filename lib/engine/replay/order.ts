// Happens-before across exchanges, taken from the recording's line order: what the daemon sent
// after the client's n-th request goes out once the client has made the requests recorded
// before it (a wait's exit code after the start and the kills that caused it).
/**
 * Happens-before from the recording: an event recorded after a request is delivered once that
 * request has been made. The client made each recorded request knowing only what came before
 * it, so a deterministic client never waits on itself; a request the run never makes is given
 * up after a timeout rather than hanging the run.
 */
export class Orderer {
  readonly #requests: number[];
  readonly #enabled: boolean;
  readonly #timeoutMs: number;
  readonly #made = new Set<number>();
  #first = 0;
  readonly #waiters = new Set<{ pos: number; go: () => void }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(requestPositions: number[], enabled: boolean, timeoutMs: number) {
    this.#requests = [...requestPositions].sort((a, b) => a - b);
    this.#enabled = enabled;
    this.#timeoutMs = timeoutMs;
  }

  made(pos: number): void {
    this.#made.add(pos);
    this.#advance();
  }

  /** True when every request recorded before `pos` has been made. */
  ready(pos: number): boolean {
    return !this.#enabled || (this.#requests[this.#first] ?? Infinity) > pos;
  }

  /** Calls `go` once `ready(pos)`; returns a function that cancels the wait. */
  wait(pos: number, go: () => void): () => void {
    const waiter = { pos, go };
    this.#waiters.add(waiter);
    this.#arm();
    return () => {
      this.#waiters.delete(waiter);
      if (this.#waiters.size === 0) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#waiters.clear();
  }

  #advance(): void {
    const before = this.#first;
    while (this.#first < this.#requests.length && this.#made.has(this.#requests[this.#first]!)) this.#first++;
    if (this.#first === before) return;
    for (const w of [...this.#waiters]) {
      if (this.ready(w.pos)) {
        this.#waiters.delete(w);
        w.go();
      }
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#arm();
  }

  #arm(): void {
    if (this.#timer || this.#waiters.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // Go on without the requests that hold back the earliest waiting delivery.
      const earliest = Math.min(...[...this.#waiters].map((w) => w.pos));
      for (const pos of this.#requests) if (pos < earliest) this.#made.add(pos);
      this.#advance();
    }, this.#timeoutMs);
  }
}
