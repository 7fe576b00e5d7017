// `--follow`: step output as it arrives, each line prefixed with `<step> | `. Output is buffered
// per step and stream up to the end of a line, so concurrent steps never interleave mid-line.
import { StringDecoder } from 'node:string_decoder';
import type { Writable } from 'node:stream';

// A line longer than this is shown in pieces rather than held without bound.
const MAX_PENDING_CHARS = 64 * 1024;

interface Pending {
  decoder: StringDecoder;
  text: string;
}

export class FollowWriter {
  readonly #out: Writable;
  readonly #err: Writable;
  readonly #pending = new Map<string, Pending>();
  readonly #prefix: (step: string) => string;

  constructor(out: Writable, err: Writable, prefix: (step: string) => string = (step) => `${step} | `) {
    this.#out = out;
    this.#err = err;
    this.#prefix = prefix;
  }

  write(step: string, stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const key = `${stream}\0${step}`;
    let pending = this.#pending.get(key);
    if (!pending) {
      // One decoder per stream: a UTF-8 character split across chunks is kept whole.
      pending = { decoder: new StringDecoder('utf8'), text: '' };
      this.#pending.set(key, pending);
    }
    pending.text += pending.decoder.write(chunk);
    const cut = pending.text.lastIndexOf('\n');
    if (cut >= 0) {
      this.#emit(step, stream, pending.text.slice(0, cut));
      pending.text = pending.text.slice(cut + 1);
    }
    if (pending.text.length > MAX_PENDING_CHARS) {
      this.#emit(step, stream, pending.text);
      pending.text = '';
    }
  }

  /** Writes what is left of a step's last line (or of every step's when no step is named). */
  flush(step?: string): void {
    for (const [key, pending] of this.#pending) {
      const [stream, name] = key.split('\0') as ['stdout' | 'stderr', string];
      if (step !== undefined && name !== step) continue;
      const rest = pending.text + pending.decoder.end();
      if (rest !== '') this.#emit(name, stream, rest);
      this.#pending.delete(key);
    }
  }

  #emit(step: string, stream: 'stdout' | 'stderr', text: string): void {
    const prefix = this.#prefix(step);
    const lines = text.split('\n').map((line) => `${prefix}${line.endsWith('\r') ? line.slice(0, -1) : line}\n`);
    (stream === 'stdout' ? this.#out : this.#err).write(lines.join(''));
  }
}
