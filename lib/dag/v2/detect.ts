// Which dialect a file is written in. Dagu itself has no such switch (2.x speaks snake_case only,
// 1.2x matched any case), so skiff decides per file from what the file contains: a step written
// with `run`, `action` or `with`, a step-level `container`, `consts`, or a snake_case key at a
// level Dagu owns in a file with no 1.2x-only key makes it a 2.x file. Keys are only read where Dagu defines them: never inside
// env, params, consts or the Docker pass-through blocks, whose keys belong to the user or to the
// Engine API.
import { formatPath, type Locate, type Problem } from '../../common/problem.js';
import { isObject } from '../validate.js';
import { isCamel, isSnake, snakeOf } from './spelling.js';

export type Dialect = 'dagu-1.2x' | 'dagu-2';

type Path = Array<string | number>;

interface SeenKey {
  key: string;
  /** The path of the map the key is in (shared by its keys: a path is made only when one is named). */
  base: Path;
}

const pathOf = (s: SeenKey): Path => [...s.base, s.key];

/** Step keys that exist only in Dagu 2.x. */
const V2_STEP_KEYS = new Set(['run', 'action', 'with', 'container']);
/** DAG keys that exist only in Dagu 2.x. */
const V2_DAG_KEYS = new Set(['consts', 'labels', 'defaults']);
/** Maps under a step whose keys are Dagu's own. */
const STEP_OWNED_MAPS = ['continue_on', 'continueOn', 'retry_policy', 'retryPolicy', 'container', 'with', 'config'];

export interface Detection {
  dialect: Dialect;
  /** A field spelled both ways: one problem per field, on its second spelling. */
  problems: Problem[];
  /** The 1.2x spellings of those fields (their "invalid key" errors would say the same again). */
  mixed: Set<string>;
  /** For a 2.x file: the first key that made it one, as `path`. */
  reason?: string;
}

export function detectDialect(value: unknown, locateKey: Locate): Detection {
  let v2 = false;
  if (!isObject(value)) return { dialect: 'dagu-1.2x', problems: [], mixed: new Set() };

  // What the keys of Dagu's own maps tell, gathered as they are met (in file order): the first
  // snake_case key, whether a 1.2x-only one is there, and the first of each spelling of a field.
  // Each spelling is judged once: a large file repeats the same few keys in every step.
  const kinds = new Map<string, { camel: boolean; snake: boolean }>();
  const kind = (key: string) => {
    let k = kinds.get(key);
    if (!k) kinds.set(key, (k = { camel: isCamel(key), snake: isSnake(key) }));
    return k;
  };
  let snake: SeenKey | undefined;
  let v1Only = false;
  const firstCamel = new Map<string, SeenKey>();
  const firstSnake = new Map<string, SeenKey>();
  const note = (map: Record<string, unknown>, base: Path) => {
    for (const key of Object.keys(map)) {
      const k = kind(key);
      if (k.snake) {
        snake ??= { key, base };
        if (!firstSnake.has(key)) firstSnake.set(key, { key, base });
      }
      if (k.camel) {
        const field = snakeOf(key);
        if (!firstCamel.has(field)) firstCamel.set(field, { key, base });
      }
      if (key === 'executor' || k.camel) v1Only = true;
    }
  };
  let reason: string | undefined;
  const because = (path: Path) => {
    v2 = true;
    reason ??= formatPath(path);
  };
  const scanStep = (step: unknown, base: Path) => {
    if (!isObject(step)) return;
    note(step, base);
    for (const key of Object.keys(step)) if (V2_STEP_KEYS.has(key)) because([...base, key]);
    for (const key of STEP_OWNED_MAPS) if (isObject(step[key])) note(step[key] as Record<string, unknown>, [...base, key]);
    const executor = step.executor;
    if (isObject(executor) && isObject(executor.config)) note(executor.config, [...base, 'executor', 'config']);
  };

  note(value, []);
  for (const key of Object.keys(value)) if (V2_DAG_KEYS.has(key)) because([key]);
  if (isObject(value.container)) note(value.container, ['container']);
  const steps = value.steps;
  if (Array.isArray(steps)) {
    steps.forEach((item, i) => {
      if (Array.isArray(item)) item.forEach((m, j) => scanStep(m, ['steps', i, j]));
      else scanStep(item, ['steps', i]);
    });
  } else if (isObject(steps)) {
    for (const [name, step] of Object.entries(steps)) scanStep(step, ['steps', name]);
  }
  for (const key of ['handler_on', 'handlerOn']) {
    const handlers = value[key];
    if (isObject(handlers)) for (const [name, step] of Object.entries(handlers)) scanStep(step, [key, name]);
  }

  // A snake_case key alone makes a 2.x file only when nothing in it is 1.2x-only (an `executor:`
  // or a camelCase key of Dagu's): in a 1.2x file it is a typo, which the 1.2x reader names with
  // a did-you-mean, instead of "executor has been removed" for every step.
  if (snake && !v2 && !v1Only) because(pathOf(snake));

  // One field, two spellings: name both, once per field.
  const problems: Problem[] = [];
  const mixed = new Set<string>();
  for (const [snake, camel] of firstCamel) {
    const other = firstSnake.get(snake);
    if (!other) continue;
    mixed.add(camel.key);
    const [first, second] = inFileOrder(camel, other, locateKey);
    problems.push({
      path: formatPath(pathOf(second)),
      message: `${second.key} and ${first.key} (at ${formatPath(pathOf(first))}) are two spellings of one field: write ${snake} everywhere (Dagu 2.x) or ${camel.key} everywhere (Dagu 1.2x)`,
      place: locateKey(pathOf(second)),
    });
  }
  return { dialect: v2 ? 'dagu-2' : 'dagu-1.2x', problems, mixed, ...(v2 && reason ? { reason } : {}) };
}

function inFileOrder(a: SeenKey, b: SeenKey, locateKey: Locate): [SeenKey, SeenKey] {
  const pa = locateKey(pathOf(a));
  const pb = locateKey(pathOf(b));
  return pa.line < pb.line || (pa.line === pb.line && pa.col <= pb.col) ? [a, b] : [b, a];
}
