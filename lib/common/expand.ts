// `${NAME}` / `$NAME` expansion and backtick substitution, done on the host before anything
// reaches a shell or a container (docs/dagu-behavior.md §2.2). Unlike 1.2x-era Dagu, a name that is
// defined nowhere is left as written so a container's own shell can still expand it, and `\$`
// is a literal `$` (the behaviour Dagu adopted later).
//
// Two ways to run backticks: `expand` runs them synchronously (a DAG file is loaded before
// anything runs, and loadDag is synchronous), `expandAsync` hands them to a runner the caller
// owns: during a run that is the executor set's host runner, so a slow command neither freezes
// the other steps' output nor escapes a Ctrl-C.
import { execFileSync } from 'node:child_process';
import { SkiffError } from './errors.js';

export type Lookup = (name: string) => string | undefined;

export interface ExpandOptions {
  /** Run `` `cmd` `` on the host and splice its trimmed stdout. */
  backticks?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

const VARIABLE = /\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*|[0-9]+)((?:\.[A-Za-z0-9_]+)*)\}|\$([A-Za-z_][A-Za-z0-9_]*|[0-9])/g;
const BACKTICK = /`([^`]*)`/g;

export function expand(text: string, lookup: Lookup, options: ExpandOptions = {}): string {
  if (!text.includes('$') && !(options.backticks && text.includes('`'))) return text;
  const withVars = expandVariables(text, lookup);
  return options.backticks ? substituteCommands(withVars, options) : withVars;
}

/** Runs one backtick command and resolves to its stdout; rejects with a SkiffError. */
export type CommandRunner = (command: string) => Promise<string>;

/** `expand`, with backticks (when `run` is given) run one after another by `run`. */
export async function expandAsync(text: string, lookup: Lookup, run?: CommandRunner): Promise<string> {
  const withVars = text.includes('$') ? expandVariables(text, lookup) : text;
  if (!run || !withVars.includes('`')) return withVars;
  let out = '';
  let last = 0;
  for (const match of withVars.matchAll(BACKTICK)) {
    const command = match[1]!;
    out += withVars.slice(last, match.index);
    if (command.trim() !== '') out += (await run(command)).trim();
    last = match.index + match[0].length;
  }
  return out + withVars.slice(last);
}

function expandVariables(text: string, lookup: Lookup): string {
  return text.replace(VARIABLE, (whole, braced?: string, path?: string, bare?: string) => {
    if (whole === '\\$') return '$';
    if (bare !== undefined) return lookup(bare) ?? whole;
    const name = braced as string;
    if (!path) return lookup(name) ?? whole;
    // `${id.stdout}` is a name of its own; otherwise `${NAME.a.b}` reads a JSON output.
    const direct = lookup(name + path);
    if (direct !== undefined) return direct;
    const json = lookup(name);
    return json === undefined ? whole : (readJsonPath(json, path.slice(1).split('.')) ?? whole);
  });
}

function readJsonPath(json: string, keys: string[]): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  for (const key of keys) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function substituteCommands(text: string, options: ExpandOptions): string {
  return text.replace(BACKTICK, (_whole, command: string) => {
    if (command.trim() === '') return '';
    try {
      const out = execFileSync('/bin/sh', ['-c', command], {
        cwd: options.cwd,
        env: options.env ?? process.env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      });
      return out.trim();
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim();
      throw substitutionFailed(command, stderr, err);
    }
  });
}

export function substitutionFailed(command: string, stderr: string | undefined, cause?: unknown): SkiffError {
  return new SkiffError('config', `command substitution \`${command}\` failed${stderr ? `: ${stderr}` : ''}`, { cause });
}

/** A lookup over several scopes, highest precedence first. */
export function chainLookups(...scopes: Array<Lookup | Record<string, string | undefined> | undefined>): Lookup {
  const fns = scopes.filter((s) => s !== undefined).map((s) => (typeof s === 'function' ? s : (name: string) => (Object.hasOwn(s!, name) ? s![name] : undefined)));
  return (name) => {
    for (const fn of fns) {
      const v = fn(name);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}

/** Expands every string leaf of a config value; map keys are left alone (docs/dagu-behavior.md §2.2). */
export function expandLeaves(value: unknown, lookup: Lookup, options: ExpandOptions = {}): unknown {
  if (typeof value === 'string') return expand(value, lookup, options);
  if (Array.isArray(value)) return value.map((v) => expandLeaves(v, lookup, options));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandLeaves(v, lookup, options);
    return out;
  }
  return value;
}
