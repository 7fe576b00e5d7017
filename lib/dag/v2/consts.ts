// `consts:` of a Dagu 2.x file: a list of single-key maps, each value a string, number or
// boolean, resolved once at load. An entry sees only the entries before it; `${consts.x}` that
// names nothing earlier stays as written, and so does every other reference inside a const.
import { isObject } from '../validate.js';

type Path = Array<string | number>;

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const REF = /(\\*)\$\{consts\.([A-Za-z][A-Za-z0-9_]*)\}/g;

export function consts(raw: unknown, at: Path): { values: Record<string, string>; problems: Array<{ path: Path; message: string }> } {
  const values: Record<string, string> = {};
  const problems: Array<{ path: Path; message: string }> = [];
  if (!Array.isArray(raw)) {
    problems.push({ path: at, message: 'consts must be a list of single-key maps (- name: value)' });
    return { values, problems };
  }
  raw.forEach((item, i) => {
    const path = [...at, i];
    if (!isObject(item) || Object.keys(item).length !== 1) {
      problems.push({ path, message: 'each consts entry must be a map with exactly one key' });
      return;
    }
    const [name, value] = Object.entries(item)[0]!;
    if (!NAME.test(name)) problems.push({ path: [...path, name], message: `invalid consts name "${name}": must match ${NAME.source}` });
    else if (Object.hasOwn(values, name)) problems.push({ path: [...path, name], message: `duplicate consts name "${name}"` });
    else if (typeof value === 'number' && !Number.isFinite(value)) problems.push({ path: [...path, name], message: `consts ${name} must be a finite number` });
    else if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      problems.push({ path: [...path, name], message: `consts ${name} must be a string, number or boolean` });
    } else values[name] = substituteConsts(String(value), values) as string;
  });
  return { values, problems };
}

/** Replaces `${consts.x}` in every string leaf; an escaped or unknown reference stays as written. */
export function substituteConsts(value: unknown, values: Record<string, string>): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${consts.')) return value;
    return value.replace(REF, (whole, slashes: string, name: string) => {
      if (slashes.length % 2 === 1) return whole; // escaped: the value expander drops one backslash
      // One pass: a reference inside the inserted value is text, so it is escaped for the later passes.
      return Object.hasOwn(values, name) ? slashes + values[name]!.replace(/\$\{(?=[A-Za-z_][A-Za-z0-9_]*\.)/g, '\\${') : whole;
    });
  }
  if (Array.isArray(value)) return value.map((v) => substituteConsts(v, values));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteConsts(v, values);
    return out;
  }
  return value;
}
