// What a replay has learned: which live value stands for which recorded one, per class of
// volatile value, one to one both ways. A request that would break the correspondence does not
// match; response bodies are given back with the live values in place of the recorded ones.
import type { CompiledRules } from './rules.js';
import { className } from './rules.js';
import type { Difference, SlotPair } from './compare.js';
import { isTextual } from './text.js';

export class Mapping {
  readonly #l2r = new Map<string, Map<string, string>>();
  readonly #r2l = new Map<string, Map<string, string>>();

  #maps(cls: string): [Map<string, string>, Map<string, string>] {
    let a = this.#l2r.get(cls);
    let b = this.#r2l.get(cls);
    if (!a || !b) {
      a = new Map();
      b = new Map();
      this.#l2r.set(cls, a);
      this.#r2l.set(cls, b);
    }
    return [a, b];
  }

  /** The first pair that contradicts what is known (or another pair of the same request), said in words. */
  conflict(pairs: SlotPair[]): Difference | undefined {
    const l2r = new Map<string, string>();
    const r2l = new Map<string, string>();
    for (const p of pairs) {
      const [known, back] = this.#maps(p.cls);
      const key = (v: string) => `${p.cls}\0${v}`;
      const what = className(p.cls);
      const r = known.get(p.live) ?? l2r.get(key(p.live));
      if (r !== undefined && r !== p.recorded) {
        return { where: p.where, made: `${what} ${JSON.stringify(p.live)}`, recorded: `${JSON.stringify(p.recorded)} (this replay already stands ${JSON.stringify(p.live)} for the recorded ${JSON.stringify(r)})` };
      }
      const l = back.get(p.recorded) ?? r2l.get(key(p.recorded));
      if (l !== undefined && l !== p.live) {
        const handedOut = l === p.recorded ? 'the recording handed it out as is' : `this replay already stands ${JSON.stringify(l)} for it`;
        return { where: p.where, made: `${what} ${JSON.stringify(p.live)}`, recorded: `${JSON.stringify(p.recorded)} (${handedOut})` };
      }
      l2r.set(key(p.live), p.recorded);
      r2l.set(key(p.recorded), p.live);
    }
    return undefined;
  }

  commit(pairs: SlotPair[]): void {
    for (const p of pairs) this.learn(p.cls, p.live, p.recorded);
  }

  learn(cls: string, live: string, recorded: string): void {
    const [a, b] = this.#maps(cls);
    if (!a.has(live) && !b.has(recorded)) {
      a.set(live, recorded);
      b.set(recorded, live);
    }
  }

  liveFor(cls: string, recorded: string): string | undefined {
    return this.#r2l.get(cls)?.get(recorded);
  }

  /**
   * A response chunk as the live client should see it: recorded client-made values become the
   * live ones; ids the daemon handed out are fixed as themselves, so a later request that names
   * another id does not match.
   */
  rewriteResponse(chunk: Buffer, rules: CompiledRules): Buffer {
    if (!isTextual(chunk)) return chunk;
    const text = chunk.toString('utf8');
    for (const m of text.matchAll(/\b[0-9a-f]{64}\b/g)) this.learn('id', m[0], m[0]);
    const out = rules.mapBack(text, (cls, recorded) => this.liveFor(cls, recorded));
    return out === text ? chunk : Buffer.from(out, 'utf8');
  }
}
