// Whether a live request is a recorded one: equal where the client chooses, and consistent where
// the rules say a value is volatile (each volatile pair found is collected for the Mapping to
// check against what the replay already learned). The first difference is returned in words.
import type { CompiledRules } from './rules.js';
import { bodyText, type Shape } from './exchanges.js';
import { isTextual, sameFixed, show } from './text.js';

/** One learned correspondence: this live value stands for that recorded value. */
export interface SlotPair {
  cls: string;
  live: string;
  recorded: string;
  where: string;
}

export interface Difference {
  where: string;
  made: string;
  recorded: string;
}

export class ShapeComparer {
  readonly #rules: CompiledRules;

  constructor(rules: CompiledRules) {
    this.#rules = rules;
  }

  compare(live: Shape, rec: Shape, pairs: SlotPair[]): Difference | undefined {
    if (live.method !== rec.method) return { where: 'method', made: live.method, recorded: rec.method };
    const p = this.#string(live.pathname, rec.pathname, 'path', pairs);
    if (p) return p;
    if (live.query.length !== rec.query.length || live.query.some(([k], i) => k !== rec.query[i]![0])) {
      return { where: 'query', made: JSON.stringify(live.query.map(([k]) => k).join('&')), recorded: JSON.stringify(rec.query.map(([k]) => k).join('&')) };
    }
    for (let i = 0; i < live.query.length; i++) {
      const [key, lv] = live.query[i]!;
      const rv = rec.query[i]![1];
      if (this.#rules.ignoresQuery(key)) continue;
      const where = `query ${key}`;
      const lj = jsonOrUndefined(lv);
      const rj = jsonOrUndefined(rv);
      const d = lj !== undefined && rj !== undefined ? this.#json(lj, rj, where, pairs) : this.#string(lv, rv, where, pairs);
      if (d) return d;
    }
    if (live.upgrade !== rec.upgrade) return { where: 'upgrade', made: String(live.upgrade), recorded: String(rec.upgrade) };
    if (live.auth !== rec.auth) return { where: 'X-Registry-Auth', made: live.auth ? 'present' : 'absent', recorded: rec.auth ? 'present' : 'absent' };
    const lb = live.body;
    const rb = rec.body;
    if (lb.kind !== rb.kind) return { where: 'body', made: bodyText(lb), recorded: bodyText(rb) };
    if (lb.kind === 'json' && rb.kind === 'json') return this.#json(lb.value, rb.value, 'body', pairs);
    if (lb.kind === 'bytes' && rb.kind === 'bytes' && !lb.bytes.equals(rb.bytes)) {
      if (isTextual(lb.bytes) && isTextual(rb.bytes)) return this.#string(lb.bytes.toString('utf8'), rb.bytes.toString('utf8'), 'body', pairs);
      return { where: 'body', made: bodyText(lb), recorded: bodyText(rb) };
    }
    return undefined;
  }

  /** `POST /v1.41/containers/<id>/start`: what a request is, with its volatile parts hidden. */
  kindOf(shape: Shape): string {
    const t = this.#rules.tokenize(shape.pathname);
    let out = t.fixed[0]!;
    for (let i = 0; i < t.slots.length; i++) out += `<${t.slots[i]!.cls}>${t.fixed[i + 1]!}`;
    return `${shape.method} ${out}${shape.upgrade ? ' upgrade' : ''}`;
  }

  #string(live: string, recorded: string, where: string, pairs: SlotPair[]): Difference | undefined {
    const l = this.#rules.tokenize(live);
    const r = this.#rules.tokenize(recorded);
    const differ = () => ({ where, made: JSON.stringify(live), recorded: JSON.stringify(recorded) });
    if (l.slots.length !== r.slots.length) return differ();
    for (let i = 0; i < l.fixed.length; i++) if (!sameFixed(l.fixed[i]!, r.fixed[i]!)) return differ();
    for (let i = 0; i < l.slots.length; i++) {
      const a = l.slots[i]!;
      const b = r.slots[i]!;
      if (a.cls !== b.cls) return differ();
      if (a.cls !== 'time') pairs.push({ cls: a.cls, live: a.value, recorded: b.value, where });
    }
    return undefined;
  }

  #json(live: unknown, recorded: unknown, where: string, pairs: SlotPair[]): Difference | undefined {
    const differ = () => ({ where, made: show(live), recorded: show(recorded) });
    if (typeof live === 'string' && typeof recorded === 'string') return this.#string(live, recorded, where, pairs);
    if (Array.isArray(live) || Array.isArray(recorded)) {
      if (!Array.isArray(live) || !Array.isArray(recorded) || live.length !== recorded.length) return differ();
      for (let i = 0; i < live.length; i++) {
        const d = this.#json(live[i], recorded[i], `${where}[${i}]`, pairs);
        if (d) return d;
      }
      return undefined;
    }
    if (live !== null && recorded !== null && typeof live === 'object' && typeof recorded === 'object') return this.#object(live as Record<string, unknown>, recorded as Record<string, unknown>, where, pairs);
    return live === recorded ? undefined : differ();
  }

  #object(lo: Record<string, unknown>, ro: Record<string, unknown>, where: string, pairs: SlotPair[]): Difference | undefined {
    // Keys in any order. Keys that are not the same text (a temp dir as a Volumes key) are
    // paired in the order they come and compared with their volatile parts.
    const lk = Object.keys(lo);
    const rk = Object.keys(ro);
    const onlyLive = lk.filter((k) => !Object.hasOwn(ro, k));
    const onlyRecorded = rk.filter((k) => !Object.hasOwn(lo, k));
    if (onlyLive.length !== onlyRecorded.length) {
      const extra = onlyLive.length > onlyRecorded.length ? `an extra key ${JSON.stringify(onlyLive[0])}` : `no key ${JSON.stringify(onlyRecorded[0])}`;
      return { where, made: extra, recorded: show(ro) };
    }
    const entries: Array<[string, string]> = lk.filter((k) => Object.hasOwn(ro, k)).map((k) => [k, k]);
    for (let i = 0; i < onlyLive.length; i++) {
      const a = onlyLive[i]!;
      const b = onlyRecorded[i]!;
      if (this.#string(a, b, `${where} key`, pairs)) return { where: `${where}.${a}`, made: `key ${JSON.stringify(a)}`, recorded: `key ${JSON.stringify(b)}` };
      entries.push([a, b]);
    }
    for (const [a, b] of entries) {
      const lv = lo[a];
      const rv = ro[b];
      if (a === b && this.#rules.isVolatileLabel(a) && typeof lv === 'string' && typeof rv === 'string') {
        pairs.push({ cls: `label:${a}`, live: lv, recorded: rv, where: `${where}.${a}` });
        continue;
      }
      const d = this.#json(lv, rv, `${where}.${a}`, pairs);
      if (d) return d;
    }
    return undefined;
  }
}

function jsonOrUndefined(s: string): unknown {
  if (!/^\s*[[{]/.test(s)) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
