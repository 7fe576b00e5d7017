// Where a DAG's own variables come from at load time: params (the file's defaults overridden by
// the CLI's, evaluated in order) and the first dotenv file found (docs/dagu-behavior.md §2.1).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { chainLookups, expand } from '../common/expand.js';
import { formatPath } from '../common/problem.js';
import { dagLookup, evaluate, expandHome, scalarText, type Build } from './build-context.js';
import type { Params } from '../common/model.js';
import { splitParams } from './params-text.js';
import type { ParamsFile } from './schema.js';
import { isObject, type Path } from './validate.js';

const NAME_PARAM = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** Params: the file's defaults, overridden by the CLI's, then evaluated in order (§2.1). */
export function buildParams(b: Build): void {
  interface Param {
    name?: string;
    value: string;
    path: Path;
    /** CLI values are used as given: the user's shell already had its turn. */
    literal: boolean;
  }
  const params: Param[] = [];
  const raw = b.data.params as ParamsFile | undefined;
  const fromText = (text: string, path: Path) => {
    const split = splitParams(text);
    if ('error' in split) {
      b.problems.push(b.v.problem(path, `params: ${split.error}`));
      return;
    }
    for (const token of split.tokens) {
      const m = NAME_PARAM.exec(token);
      params.push(m ? { name: m[1]!, value: m[2]!, path, literal: false } : { value: token, path, literal: false });
    }
  };
  if (typeof raw === 'string') fromText(raw, ['params']);
  else if (Array.isArray(raw)) {
    raw.forEach((item, i) => {
      if (typeof item === 'string') fromText(item, ['params', i]);
      else if (isObject(item)) {
        for (const [name, value] of Object.entries(item)) params.push({ name, value: scalarText(b, ['params', i, name], value), path: ['params', i, name], literal: false });
      } else params.push({ value: scalarText(b, ['params', i], item), path: ['params', i], literal: false });
    });
  } else if (isObject(raw)) {
    for (const [name, value] of Object.entries(raw)) params.push({ name, value: scalarText(b, ['params', name], value), path: ['params', name], literal: false });
  }

  let position = 0;
  for (const arg of b.cliParams) {
    const m = NAME_PARAM.exec(arg);
    if (m) {
      const existing = params.find((p) => p.name === m[1]);
      if (existing) Object.assign(existing, { value: m[2]!, literal: true });
      else params.push({ name: m[1]!, value: m[2]!, path: ['params'], literal: true });
    } else {
      const positional = params.filter((p) => p.name === undefined);
      const existing = positional[position];
      if (existing) Object.assign(existing, { value: arg, literal: true });
      else params.push({ value: arg, path: ['params'], literal: true });
      position++;
    }
  }

  const scope: Record<string, string> = {};
  const positional: string[] = [];
  const named: Array<[string, string]> = [];
  for (const p of params) {
    // Dagu 2.x resolves nothing in a param's value: a default is literal text.
    const value = p.literal || b.dag.dialect === 'dagu-2'
      ? p.value
      : evaluate(b, p.path, p.value, chainLookups(scope, b.processEnv), { ...b.processEnv, ...scope });
    if (p.name === undefined) {
      positional.push(value);
      scope[String(positional.length)] = value;
    } else {
      named.push([p.name, value]);
      scope[p.name] = value;
    }
  }
  b.dag.params = { positional, named } satisfies Params;
  b.paramScope = scope;
}

/** Only the first dotenv candidate that exists is read; its entries go after `env:` and win. */
export function buildDotenv(b: Build): void {
  const raw = b.data.dotenv;
  const names: Array<{ name: string; path: Path }> =
    raw === undefined
      ? [{ name: '.env', path: [] }]
      : typeof raw === 'string'
        ? [{ name: raw, path: ['dotenv'] }]
        : raw.map((name, i) => ({ name, path: ['dotenv', i] }));
  for (const { name, path } of names) {
    if (name.trim() === '') continue;
    const expanded = evaluate(b, path, name.trim(), dagLookup(b), undefined);
    const home = expandHome(expanded, b.processEnv);
    const candidates = isAbsolute(home) ? [home] : [resolve(b.dag.dir, home), resolve(b.fileDir, home)];
    const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
    if (!found) continue;
    const scope: Record<string, string> = Object.fromEntries(b.dag.env);
    const parsed = parseDotenv(readFileSync(found, 'utf8'));
    for (const problem of parsed.problems) {
      b.problems.push({ path: formatPath(b.v.original(path)), message: `dotenv ${found}: ${problem.message}`, place: { file: found, line: problem.line, col: 1 } });
    }
    const added: Array<[string, string]> = [];
    for (const entry of parsed.entries) {
      const value = entry.expand ? expand(entry.value, chainLookups(scope, b.paramScope, b.processEnv)) : entry.value;
      added.push([entry.name, value]);
      scope[entry.name] = value;
    }
    b.dag.env = [...b.dag.env, ...added];
    return;
  }
}

interface DotenvEntry {
  name: string;
  value: string;
  /** Single-quoted values are literal; others may refer to `${VAR}`. */
  expand: boolean;
}

/** A small `.env` reader: `KEY=value`, `export KEY=value`, quotes, `#` comments. */
export function parseDotenv(text: string): { entries: DotenvEntry[]; problems: Array<{ line: number; message: string }> } {
  const entries: DotenvEntry[] = [];
  const problems: Array<{ line: number; message: string }> = [];
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      problems.push({ line: i + 1, message: `line ${i + 1} is not KEY=value` });
      return;
    }
    const name = m[1]!;
    const rest = m[2]!;
    if (rest.startsWith('"')) {
      let value = '';
      let j = 1;
      for (; j < rest.length && rest[j] !== '"'; j++) {
        if (rest[j] === '\\' && j + 1 < rest.length) {
          j++;
          const e = rest[j]!;
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
        } else value += rest[j];
      }
      if (j >= rest.length) problems.push({ line: i + 1, message: `line ${i + 1} has an unterminated quote` });
      entries.push({ name, value, expand: true });
    } else if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) problems.push({ line: i + 1, message: `line ${i + 1} has an unterminated quote` });
      entries.push({ name, value: rest.slice(1, end < 0 ? undefined : end), expand: false });
    } else {
      const comment = rest.search(/\s#/);
      entries.push({ name, value: (comment >= 0 ? rest.slice(0, comment) : rest).trim(), expand: true });
    }
  });
  return { entries, problems };
}
