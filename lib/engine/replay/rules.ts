// What a replay treats as volatile: the parts of a request the code under test makes up afresh
// on every run, which must match *consistently* (one live value for one recorded value, both
// ways) rather than exactly. Two kinds are facts of the Engine API and always on: the 64-hex ids
// the daemon hands out, and RFC 3339 timestamps (which match any timestamp). Everything else is
// the caller's to say, in the spirit of undici's snapshot matching options: label keys whose
// values are per-run, named patterns of made-up values (a run id), temp roots whose entries are
// per-run names, query parameters never compared.
import { escapeRegExp } from './text.js';

export interface MatchRules {
  /**
   * Label keys whose values the code makes up per run (a run id, a PID, a host name). Matched
   * as a `Labels` entry of a JSON body and as `key=value` anywhere in text (label filters).
   */
  volatileLabels?: readonly string[];
  /**
   * Values the code makes up per run, by name (the name is shown in errors): each pattern
   * matches the whole value where it appears in text. Flags are ignored; use `\b` to anchor.
   */
  volatileValues?: Readonly<Record<string, RegExp>>;
  /** Directories whose first-level entries are per-run names (`mkdtemp`): `/tmp/a1b2` stands for `/tmp/x9y8`. */
  tempRoots?: readonly string[];
  /** Query parameters whose values are never compared (default: `since`, `until`, which carry timestamps). */
  ignoreQuery?: readonly string[];
}

/** One volatile part of a string: its class (`id`, `time`, `tmp`, `label:KEY`, `value:NAME`) and text. */
export interface Token {
  cls: string;
  value: string;
}

const ID = String.raw`\b[0-9a-f]{64}\b`;
const TIME = String.raw`\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})`;

/** MatchRules made ready to use: one regular expression for every volatile part. */
export class CompiledRules {
  readonly #labels: ReadonlySet<string>;
  readonly #ignoreQuery: ReadonlySet<string>;
  readonly #valueNames: string[];
  readonly #slots: RegExp;
  readonly #responseLabels: RegExp | undefined;

  constructor(rules: MatchRules = {}) {
    const labels = [...(rules.volatileLabels ?? [])];
    this.#labels = new Set(labels);
    this.#ignoreQuery = new Set(rules.ignoreQuery ?? ['since', 'until']);
    const values = Object.entries(rules.volatileValues ?? {});
    this.#valueNames = values.map(([name]) => name);
    const roots = [...new Set((rules.tempRoots ?? []).map((r) => r.replace(/\/+$/, '')))].filter((r) => r !== '');
    const labelAlt = labels.map(escapeRegExp).join('|');
    const parts: string[] = [];
    if (labels.length > 0) parts.push(String.raw`(?<lk>${labelAlt})=(?<lv>[^\s"'&,;]+)`);
    values.forEach(([, re], i) => parts.push(`(?<v${i}>${re.source})`));
    parts.push(`(?<id>${ID})`);
    if (roots.length > 0) parts.push(String.raw`(?<tmp>(?:${roots.map(escapeRegExp).join('|')})/[^/\s"':,;=]+)`);
    parts.push(`(?<time>${TIME})`);
    this.#slots = new RegExp(parts.join('|'), 'g');
    this.#responseLabels = labels.length > 0 ? new RegExp(String.raw`"(${labelAlt})":"([^"\\]*)"`, 'g') : undefined;
  }

  /** A `Labels` key whose value is paired, not compared. */
  isVolatileLabel(key: string): boolean {
    return this.#labels.has(key);
  }

  ignoresQuery(key: string): boolean {
    return this.#ignoreQuery.has(key);
  }

  /** Splits a string into fixed text and volatile slots (`fixed` has one more entry than `slots`). */
  tokenize(s: string): { fixed: string[]; slots: Token[] } {
    const fixed: string[] = [];
    const slots: Token[] = [];
    let from = 0;
    for (const m of s.matchAll(this.#slots)) {
      if (m[0] === '') continue;
      const { cls, value, start } = this.#classify(m);
      fixed.push(s.slice(from, start));
      slots.push({ cls, value });
      from = start + value.length;
    }
    fixed.push(s.slice(from));
    return { fixed, slots };
  }

  /**
   * Text with each volatile value the client made up replaced by `live(cls, recorded)` where that
   * gives one (response bodies carry back what the request sent: an inspect's labels, Binds).
   */
  mapBack(text: string, live: (cls: string, recorded: string) => string | undefined): string {
    let out = text;
    if (this.#responseLabels) {
      out = out.replace(this.#responseLabels, (all, key: string, value: string) => {
        const l = live(`label:${key}`, value);
        return l === undefined ? all : `"${key}":${JSON.stringify(l)}`;
      });
    }
    let result = '';
    let from = 0;
    for (const m of out.matchAll(this.#slots)) {
      if (m[0] === '') continue;
      const { cls, value, start } = this.#classify(m);
      if (cls === 'id' || cls === 'time') continue;
      const l = live(cls, value);
      if (l === undefined) continue;
      result += out.slice(from, start) + l;
      from = start + value.length;
    }
    return result + out.slice(from);
  }

  #classify(m: RegExpMatchArray): { cls: string; value: string; start: number } {
    const g = m.groups!;
    if (g.lv !== undefined) return { cls: `label:${g.lk}`, value: g.lv, start: m.index! + m[0].length - g.lv.length };
    const i = this.#valueNames.findIndex((_, k) => g[`v${k}`] !== undefined);
    const cls = i !== -1 ? `value:${this.#valueNames[i]}` : g.id !== undefined ? 'id' : g.tmp !== undefined ? 'tmp' : 'time';
    return { cls, value: m[0], start: m.index! };
  }
}

/** How a class of volatile value is named in an error. */
export function className(cls: string): string {
  if (cls.startsWith('label:')) return 'label value';
  if (cls.startsWith('value:')) return cls.slice(6);
  return cls === 'tmp' ? 'temp path' : cls;
}
