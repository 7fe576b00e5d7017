// Weakly typed decoding of a Docker step's pass-through blocks (`container`, `host`, `network`,
// `exec`) with the struct tables of keys.ts: mapstructure's WeaklyTypedInput, as Dagu configures
// it for these blocks (docs/dagu-behavior.md §3.2, Appendix A), emitting Engine API JSON.
import { goKind, isPlainMap, parseGoBool } from '../../common/go-values.js';
import { formatPath, type KeyPath } from '../../common/problem.js';
import { fieldName, suggest, type FieldType, type StructTable } from './keys.js';

export interface DecodeIssue {
  /** Relative to the value handed to `decodeBlock`, keys as written. */
  path: KeyPath;
  message: string;
}

export interface DecodeOptions {
  /**
   * Load time: a string that still holds `${…}`, `$NAME` or a backtick is only known after
   * expansion, so it is kept as is instead of being converted (and possibly rejected) now.
   */
  deferDynamic: boolean;
}

const DYNAMIC = /\$\{|\$[A-Za-z0-9_]|`/;

/** True when `s` will change under `${}`/backtick expansion, so its final value is unknown yet. */
export function isDynamic(s: unknown): boolean {
  return typeof s === 'string' && DYNAMIC.test(s);
}

/** Decodes one block (`container`, `host`, `network`, `exec`) into Engine API JSON. */
export function decodeBlock(
  raw: unknown,
  t: StructTable,
  path: KeyPath,
  options: DecodeOptions,
  issues: DecodeIssue[],
): Record<string, unknown> | undefined {
  return new Decoder(options, issues).struct(raw, t, path);
}

class Decoder {
  constructor(
    private readonly options: DecodeOptions,
    private readonly issues: DecodeIssue[],
  ) {}

  private fail(path: KeyPath, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  private typeError(path: KeyPath, expected: string, value: unknown): undefined {
    return this.fail(path, `failed to decode config: '${formatPath(path)}' expected type '${expected}', got unconvertible type '${goKind(value)}'`);
  }

  private deferred(value: unknown): boolean {
    return this.options.deferDynamic && isDynamic(value);
  }

  struct(raw: unknown, t: StructTable, path: KeyPath): Record<string, unknown> | undefined {
    if (raw === null || raw === undefined) return {};
    if (!isPlainMap(raw)) return this.fail(path, `failed to decode config: '${formatPath(path)}' expected a map, got '${goKind(raw)}'`);
    const out: Record<string, unknown> = {};
    const setBy = new Map<string, KeyPath>();
    this.fill(raw, t, path, out, setBy);
    return out;
  }

  private fill(raw: Record<string, unknown>, t: StructTable, path: KeyPath, out: Record<string, unknown>, setBy: Map<string, KeyPath>): void {
    for (const [key, value] of Object.entries(raw)) {
      const here = [...path, key];
      const name = fieldName(t, key);
      if (name === undefined) {
        const hint = suggest(t, key);
        this.fail(here, `unknown key ${formatPath(here)} (not a Docker ${t.name} field${hint ? `; did you mean ${hint}?` : ''})`);
        continue;
      }
      const type = t.fields[name]!;
      if (typeof type === 'object' && 'struct' in type && type.flatten) {
        // `host.resources: {…}` (Dagu's only working form) lands in the same flat HostConfig.
        if (value === null || value === undefined) continue;
        if (!isPlainMap(value)) {
          this.fail(here, `failed to decode config: '${formatPath(here)}' expected a map, got '${goKind(value)}'`);
          continue;
        }
        this.fill(value, type.struct, here, out, setBy);
        continue;
      }
      const first = setBy.get(name);
      if (first) {
        this.fail(here, `duplicate key ${formatPath(here)} (same field as ${formatPath(first)})`);
        continue;
      }
      if (value === null || value === undefined) continue;
      setBy.set(name, here);
      const decoded = this.value(value, type, here);
      if (decoded !== undefined) out[name] = decoded;
    }
  }

  value(value: unknown, type: FieldType, path: KeyPath): unknown {
    if (typeof type === 'object') {
      if ('struct' in type) return this.struct(value, type.struct, path);
      if ('structList' in type) return this.list(value, path, (item, p) => this.struct(item, type.structList, p));
      if ('structMap' in type) return this.map(value, path, (item, p) => this.struct(item, type.structMap, p));
      return this.map(value, path, (item, p) => (item === null || item === undefined ? [] : this.list(item, p, (one, q) => this.struct(one, type.structListMap, q))));
    }
    switch (type) {
      case 'string':
        return this.string(value, path);
      case 'bool':
        return this.bool(value, path);
      case 'int':
        return this.int(value, path);
      case 'strings':
        return this.list(value, path, (item, p) => this.string(item, p));
      case 'env':
        if (isPlainMap(value)) {
          const out: string[] = [];
          for (const [k, v] of Object.entries(value)) {
            const s = v === null || v === undefined ? '' : this.string(v, [...path, k]);
            if (s !== undefined) out.push(`${k}=${s}`);
          }
          return out;
        }
        return this.list(value, path, (item, p) => this.string(item, p));
      case 'stringMap':
        return this.map(value, path, (item, p) => (item === null || item === undefined ? '' : this.string(item, p)));
      case 'set':
        if (Array.isArray(value)) {
          const out: Record<string, object> = {};
          value.forEach((item, i) => {
            const key = this.string(item, [...path, i]);
            if (key !== undefined) out[key] = {};
          });
          return out;
        }
        return this.map(value, path, (item, p) => {
          if (item === null || item === undefined || (isPlainMap(item) && Object.keys(item).length === 0)) return {};
          return this.fail(p, `failed to decode config: '${formatPath(p)}' expected an empty map, got '${goKind(item)}'`);
        });
      case 'ints':
        return this.list(value, path, (item, p) => this.int(item, p, true));
      case 'any':
        return value;
    }
  }

  /** A single value where a list is expected becomes a one-element list (weak typing). */
  private list(value: unknown, path: KeyPath, item: (v: unknown, p: KeyPath) => unknown): unknown[] | undefined {
    const items = Array.isArray(value) ? value : [value];
    const out: unknown[] = [];
    let ok = true;
    items.forEach((v, i) => {
      const decoded = item(v, Array.isArray(value) ? [...path, i] : path);
      if (decoded === undefined) ok = false;
      else out.push(decoded);
    });
    return ok ? out : undefined;
  }

  /** A map whose keys are data (network names, label names, ports): kept verbatim. */
  private map(value: unknown, path: KeyPath, item: (v: unknown, p: KeyPath) => unknown): Record<string, unknown> | undefined {
    if (!isPlainMap(value)) return this.fail(path, `failed to decode config: '${formatPath(path)}' expected a map, got '${goKind(value)}'`);
    const out: Record<string, unknown> = {};
    let ok = true;
    for (const [k, v] of Object.entries(value)) {
      const decoded = item(v, [...path, k]);
      if (decoded === undefined) ok = false;
      else out[k] = decoded;
    }
    return ok ? out : undefined;
  }

  private string(value: unknown, path: KeyPath): string | undefined {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return this.typeError(path, 'string', value);
  }

  private bool(value: unknown, path: KeyPath): boolean | string | undefined {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'number') return value !== 0;
    if (typeof value === 'string') {
      if (this.deferred(value)) return value;
      if (value === '') return undefined;
      const b = parseGoBool(value);
      if (b !== undefined) return b;
      return this.fail(path, `failed to decode config: cannot parse '${formatPath(path)}' as bool`);
    }
    return this.typeError(path, 'bool', value);
  }

  private int(value: unknown, path: KeyPath, required = false): number | string | undefined {
    if (typeof value === 'number') {
      if (Number.isInteger(value)) return value;
      return this.typeError(path, 'int', value);
    }
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (typeof value === 'string') {
      if (this.deferred(value)) return value;
      const s = value.trim();
      if (s === '' && !required) return undefined;
      if (/^[+-]?\d+$/.test(s)) return Number(s);
      return this.fail(path, `failed to decode config: cannot parse '${formatPath(path)}' as int`);
    }
    return this.typeError(path, 'int', value);
  }
}
