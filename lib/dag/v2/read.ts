// Load a file in either dialect into the one `Dag` model. A 1.2x file goes through the 1.2x
// validator and builder unchanged; a 2.x file is first translated to that shape (translate.ts)
// behind a source whose places point into the file as written, then built by the same code, and
// the few 2.x facts the 1.2x shape cannot hold are set on the built model.
import type { DagSource } from '../load.js';
import type { Dag, Step } from '../../common/model.js';
import { formatPath, type Problem } from '../../common/problem.js';
import { isObject } from '../validate.js';
import { dagJsonSchema } from '../schema.js';
import { deprecations } from './deprecations.js';
import { snakeOf } from './spelling.js';
import { detectDialect, type Dialect } from './detect.js';
import { translateV2, type Translation } from './translate.js';

export interface Prepared {
  dialect: Dialect;
  /** The source the 1.2x validator reads: the file itself, or its translation. */
  source: DagSource;
  /** Problems found before validation (mixed spellings, 2.x-only rules). */
  problems: Problem[];
  /** Deprecated 2.x syntax: reported by `skiff validate`, never fatal. */
  warnings: Problem[];
  /** Applies what the 1.2x shape cannot carry (`eval` preconditions) to the built model. */
  finish(dag: Dag): void;
  /** Problems of the 1.2x validator and builder, in the file's own key spelling. */
  respell(problems: Problem[]): Problem[];
}

/** `steps[1][0]` of `steps[1][0].run`, `handler_on.exit` of `handler_on.exit.with`. */
function stepOf(path: string): string | undefined {
  return /^(steps\[\d+\](?:\[\d+\])?|steps\.[^.[]+|handler_on\.[^.[]+)/.exec(path)?.[1];
}

function stepsOf(problems: Problem[]): Set<string> {
  return new Set(problems.map((p) => stepOf(p.path)).filter((s): s is string => s !== undefined));
}

export function prepareSource(source: DagSource): Prepared {
  const detection = detectDialect(source.value, source.locateKey);
  if (detection.dialect === 'dagu-1.2x' || !isObject(source.value)) {
    return { dialect: detection.dialect, source, problems: detection.problems, warnings: [], finish: () => undefined, respell: (p) => p };
  }
  const t = translateV2(source.value, source.locate, source.locateKey);
  const translated: DagSource = {
    file: source.file,
    value: t.value,
    problems: [],
    locate: (path) => source.locate(t.originalPath(path)),
    locateKey: (path) => source.locateKey(t.originalPath(path)),
    scalarText: (path) => source.scalarText(t.originalPath(path)),
  };
  return {
    dialect: 'dagu-2',
    source: translated,
    problems: explainDialect([...detection.problems, ...t.problems.filter((p) => !mentionsMixedKey(p, detection.mixed))], detection.reason),
    warnings: deprecations(source.value, source.locateKey),
    finish: (dag) => finishV2(dag, t),
    // A step the translation already refused has no command or executor config to speak of.
    respell: (problems) => {
      const refused = stepsOf(t.problems);
      return respell(problems, t).filter((p) => !refused.has(stepOf(p.path) ?? ''));
    },
  };
}

/**
 * A 1.2x spelling refused in a file read as 2.x: the first such problem says why the file is
 * read as 2.x, so that a stray snake_case key in a 1.2x file is easy to find.
 */
function explainDialect(problems: Problem[], reason: string | undefined): Problem[] {
  const first = problems.findIndex((p) => /use snake_case keys|"executor" has been removed/.test(p.message));
  if (first < 0 || reason === undefined) return problems;
  const out = [...problems];
  out[first] = { ...out[first]!, message: `${out[first]!.message} (the file is read as Dagu 2.x because of ${reason})` };
  return out;
}

function mentionsMixedKey(p: Problem, mixed: Set<string>): boolean {
  const m = /has invalid keys: (\w+);/.exec(p.message);
  return m !== null && mixed.has(m[1]!);
}

function finishV2(dag: Dag, t: Translation): void {
  const mark = (owner: string, conditions: Dag['preconditions']) => {
    const evals = t.evals.get(owner);
    if (evals) conditions.forEach((c, i) => evals[i] && (c.eval = true));
  };
  mark('', dag.preconditions);
  // Steps were built in file order, one per translated list member (or map entry).
  const paths = stepPaths(t.value.steps);
  dag.steps.forEach((step: Step, i) => paths[i] && mark(paths[i]!, step.preconditions));
  for (const [slot, key] of [['success', 'success'], ['failure', 'failure'], ['cancel', 'abort'], ['exit', 'exit']] as const) {
    const handler = dag.handlerOn[slot];
    if (handler) mark(formatPath(['handler_on', key]), handler.preconditions);
  }
}

function stepPaths(steps: unknown): string[] {
  const out: string[] = [];
  if (Array.isArray(steps)) {
    steps.forEach((item, i) => {
      if (Array.isArray(item)) item.forEach((m, j) => m !== null && m !== undefined && out.push(formatPath(['steps', i, j])));
      else if (item !== null && item !== undefined) out.push(formatPath(['steps', i]));
    });
  } else if (isObject(steps)) for (const name of Object.keys(steps)) out.push(formatPath(['steps', name]));
  return out;
}

/** A problem of the 1.2x code names keys the 1.2x way; say them as the file has them. */
function respell(problems: Problem[], t: Translation): Problem[] {
  return problems
    // Said already by translate.ts, in 2.x's terms (name length, env entries).
    .filter((p) => !p.message.startsWith('step name must be less than') && !p.message.startsWith('env config should be'))
    .map((p) => {
      const original = formatPath(t.originalPath(parsePath(p.path)));
      const message = p.message
        .split(p.path)
        .join(original)
        .replace(/\b[a-z]+(?:[A-Z][a-z0-9]*)+\b/g, (word) => (camelKeys().has(word) ? snakeOf(word) : word))
        .replace(/\bhandler_on\b has both cancel and abort.*$/, 'handler_on has invalid keys: cancel');
      return { ...p, path: original, message };
    });
}

let knownCamel: Set<string> | undefined;

/** Every camelCase key the 1.2x schema knows: the words a message may need respelled. */
function camelKeys(): Set<string> {
  if (knownCamel) return knownCamel;
  const found = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'properties' && value !== null && typeof value === 'object') for (const name of Object.keys(value)) if (/^[a-z]+(?:[A-Z][a-z0-9]*)+$/.test(name)) found.add(name);
        walk(value);
      }
    }
  };
  walk(dagJsonSchema());
  return (knownCamel = found);
}

/** `steps[2].executor.config` → `['steps', 2, 'executor', 'config']`. */
function parsePath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}
