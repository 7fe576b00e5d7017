// Dagu 2.x fields with rules of their own, checked and put in the 1.2x shape: `continue_on`,
// `retry_policy`, `preconditions` (`condition` or `eval`), rich `params` entries, env names.
import { isObject } from '../validate.js';
import type { Emit, Json, Path } from './emit.js';
import { camelOf } from './spelling.js';

const RETRY_KEYS = new Set(['limit', 'interval_sec', 'exit_code', 'backoff', 'max_interval_sec']);
const PARAM_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RICH_PARAM_KEYS = new Set(['name', 'type', 'default', 'description', 'required', 'enum', 'minimum', 'maximum', 'min_length', 'max_length', 'pattern']);

export function continueOn(emit: Emit, raw: unknown, at: Path): unknown {
  if (!isObject(raw)) return raw;
  const names: Record<string, string> = { failed: 'failure', failure: 'failure', skipped: 'skipped', exit_code: 'exitCode', output: 'output', mark_success: 'markSuccess' };
  const out: Json = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = names[key];
    if (name === undefined) emit.problem([...at, key], `continue_on: unknown key "${key}"`, true);
    else emit.set(out, name, value, [...at, key]);
  }
  return out;
}

export function retryPolicy(emit: Emit, raw: unknown, at: Path): unknown {
  if (!isObject(raw)) return raw;
  const out: Json = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!RETRY_KEYS.has(key)) emit.invalidKey('retry_policy', at, key, RETRY_KEYS);
    else emit.set(out, camelOf(key), value, [...at, key]);
  }
  if (raw.limit === undefined) emit.problem(at, 'limit is required when retry_policy is specified');
  if (raw.interval_sec === undefined) emit.problem(at, 'interval_sec is required when retry_policy is specified');
  return out;
}

/** Dagu 2.x preconditions: `condition` (never run for a value match) or `eval` (run, then compared). */
export function preconditions(emit: Emit, raw: unknown, at: Path): { value: unknown; evals: boolean[] } {
  const items: Array<[unknown, Path]> = Array.isArray(raw) ? raw.map((v, i) => [v, [...at, i]]) : [[raw, at]];
  const evals: boolean[] = [];
  const out: unknown[] = [];
  for (const [item, path] of items) {
    if (typeof item === 'string') {
      if (item.trim() === '') emit.problem(path, 'precondition must not be empty');
      out.push(item);
      evals.push(false);
      continue;
    }
    if (!isObject(item)) {
      emit.problem(path, 'precondition must be a string or a map with condition or eval');
      continue;
    }
    for (const key of Object.keys(item)) {
      if (!['condition', 'eval', 'expected', 'negate'].includes(key)) emit.problem([...path, key], `precondition has invalid keys: ${key}`, true);
    }
    const hasCondition = item.condition !== undefined;
    const hasEval = item.eval !== undefined;
    if (hasCondition && hasEval) emit.problem(path, 'precondition must have exactly one of condition or eval');
    else if (!hasCondition && !hasEval) emit.problem(path, 'precondition requires condition or eval');
    const text = hasCondition ? item.condition : item.eval;
    const field = hasCondition ? 'condition' : 'eval';
    if (typeof text !== 'string' || text.trim() === '') emit.problem([...path, field], `precondition ${field} must be a non-empty string`);
    if (hasEval && item.expected === undefined) emit.problem(path, 'eval requires expected');
    if (item.expected !== undefined && (typeof item.expected !== 'string' || item.expected === '')) emit.problem([...path, 'expected'], 'expected must be a non-empty string');
    else if (typeof item.expected === 'string' && item.expected.startsWith('re:')) {
      const pattern = item.expected.slice(3);
      if (pattern === '') emit.problem([...path, 'expected'], 'expected re: needs a regexp after re:');
      else {
        try {
          new RegExp(pattern);
        } catch (err) {
          emit.problem([...path, 'expected'], `expected is not a valid regexp: ${(err as Error).message}`);
        }
      }
    }
    if (item.negate !== undefined && typeof item.negate !== 'boolean') emit.problem([...path, 'negate'], 'negate must be a boolean');
    const p: Json = {};
    emit.set(p, 'condition', text, [...path, field]);
    if (item.expected !== undefined) emit.set(p, 'expected', item.expected, [...path, 'expected']);
    if (item.negate !== undefined) emit.set(p, 'negate', item.negate, [...path, 'negate']);
    out.push(p);
    evals.push(hasEval);
  }
  return { value: out, evals };
}

/** Dagu 2.x `params`: rich entries (`- name: x`, `default`…) become the 1.2x `- x: default`. */
export function params(emit: Emit, raw: unknown): unknown {
  if (!Array.isArray(raw)) return raw;
  return raw.flatMap((item, i) => {
    if (!isObject(item) || !Object.hasOwn(item, 'name')) return [item];
    const at = ['params', i];
    for (const key of Object.keys(item)) {
      if (key === 'eval') emit.problem([...at, key], 'params eval is a Dagu 2.x field skiff does not support', true);
      else if (!RICH_PARAM_KEYS.has(key)) emit.invalidKey('params entry', at, key, RICH_PARAM_KEYS);
    }
    const name = item.name;
    if (typeof name !== 'string' || !PARAM_NAME.test(name)) {
      emit.problem([...at, 'name'], `invalid param name ${JSON.stringify(name)}: must match ${PARAM_NAME.source}`);
      return [];
    }
    // Declared without a value: nothing to bind, so `${params.name}` stays as written until given one.
    return item.default === undefined || item.default === null ? [] : [{ [name]: item.default }];
  });
}

/** Env names must be identifiers; the rest is the 1.2x shape. */
export function envNames(emit: Emit, raw: unknown, at: Path): unknown {
  const check = (name: string, path: Path) => {
    if (!ENV_NAME.test(name)) emit.problem(path, `invalid env name ${JSON.stringify(name)}: must match ${ENV_NAME.source}`);
  };
  if (isObject(raw)) for (const name of Object.keys(raw)) check(name, [...at, name]);
  else if (Array.isArray(raw)) {
    raw.forEach((item, i) => {
      if (typeof item === 'string') {
        const eq = item.indexOf('=');
        if (eq <= 0) emit.problem([...at, i], `env entry ${JSON.stringify(item)} must be NAME=value`);
        else check(item.slice(0, eq).trim(), [...at, i]);
      } else if (isObject(item)) for (const name of Object.keys(item)) check(name, [...at, i, name]);
    });
  }
  return raw;
}
