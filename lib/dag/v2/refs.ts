// How a Dagu 2.x file's values are resolved when they are used (docs/dagu-dialects.md §3): the
// namespaced references `${params.x}`, `${env.X}`, `${steps.ID.output}` next to the plain names,
// run text that only has its namespaced references replaced (the shell owns `$X`), command
// substitution only in `eval`, and preconditions whose value matches take any line.
import { execFileSync } from 'node:child_process';
import { SkiffError } from '../../common/errors.js';
import { expand, type Lookup } from '../../common/expand.js';

/** `params.x` reads declared params only; `env.X` is the variable X; anything else as before. */
export function withNamespaces(lookup: Lookup, params: Record<string, string>): Lookup {
  return (name) => {
    if (name.startsWith('params.')) {
      const key = name.slice('params.'.length);
      return Object.hasOwn(params, key) ? params[key] : undefined;
    }
    if (name.startsWith('env.')) return lookup(name.slice('env.'.length));
    return lookup(name);
  };
}

const NAMESPACED = /(\\*)\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+)\}/g;

/**
 * Host `run` text: only dotted references (`${env.X}`, `${params.x}`, `${id.stdout}`…) are
 * replaced; `$X`, `${X}`, `$(…)` and backticks are left to the shell. An odd run of backslashes
 * escapes a reference (one backslash is dropped). A one-line command that a value turned into
 * several lines is refused: it would no longer be the command that was written.
 */
export function resolveRunText(text: string, lookup: Lookup): string {
  const out = text.replace(NAMESPACED, (whole, slashes: string, name: string) => {
    if (slashes.length % 2 === 1) return slashes.slice(1) + whole.slice(slashes.length);
    const value = lookup(name);
    return value === undefined ? whole : slashes + value;
  });
  if (!text.includes('\n') && out.includes('\n')) {
    throw new SkiffError('config', 'the command has a line break after its references were resolved; write a script (a run with several lines) instead');
  }
  return out;
}

/** `eval`: references resolved, then the text's `$(…)` and backticks run by the shell, in `cwd`. */
export function evaluateText(text: string, lookup: Lookup, cwd: string, env: Record<string, string>): string {
  const resolved = expand(text, lookup);
  try {
    return execFileSync('/bin/sh', ['-c', 'eval "printf %s \\"$1\\""', 'skiff-eval', resolved.replace(/"/g, '\\"')], {
      cwd,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    }).trim();
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new SkiffError('config', `eval failed: ${text}${stderr ? `: ${stderr}` : ''}`, { cause: err });
  }
}

/** A 2.x value match: literal `expected` equal to a line of the value, or `re:` found in one. */
export function matchesAnyLine(value: string, expected: string): boolean {
  const lines = value === '' ? [''] : value.split(/\r?\n/);
  if (expected.startsWith('re:')) {
    const re = new RegExp(expected.slice(3));
    return re.test(value) || lines.some((l) => re.test(l));
  }
  return value === expected || lines.some((l) => l === expected);
}
