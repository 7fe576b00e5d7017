// Bytes the client sends (a streamed request body, a hijacked session's stdin) checked against
// the recorded chunks as they pass, without joining either side.
/** Compares a sequence of incoming bytes with recorded chunks, without joining either. */
export class ByteMatcher {
  readonly #chunks: Buffer[];
  #index = 0;
  #offset = 0;
  #seen = 0;
  readonly total: number;

  constructor(chunks: Buffer[]) {
    this.#chunks = chunks;
    this.total = chunks.reduce((sum, c) => sum + c.length, 0);
  }

  get seen(): number {
    return this.#seen;
  }

  get complete(): boolean {
    return this.#seen === this.total;
  }

  /** The stream offset of the first byte that differs (or goes past the end), else -1. */
  feed(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.length) {
      const current = this.#chunks[this.#index];
      if (!current) return this.#seen;
      const n = Math.min(current.length - this.#offset, chunk.length - at);
      if (!chunk.subarray(at, at + n).equals(current.subarray(this.#offset, this.#offset + n))) {
        for (let k = 0; k < n; k++) if (chunk[at + k] !== current[this.#offset + k]) return this.#seen + k;
      }
      at += n;
      this.#seen += n;
      this.#offset += n;
      if (this.#offset === current.length) {
        this.#index++;
        this.#offset = 0;
      }
    }
    return -1;
  }
}
