// Load-time problems: every check runs and all problems are reported together, each with the
// place of the offending value (Dagu's builder table collects them the same way).
import { SkiffError, formatPlace, type Place } from './errors.js';

export interface Problem {
  /** Dotted key path in the file, e.g. `steps[2].executor.config.host.binds[0]`. */
  path: string;
  message: string;
  place: Place;
}

/** Maps a key path (relative to the node it was made for) to the place of the nearest node. */
export type Locate = (path: ReadonlyArray<string | number>) => Place;

export type KeyPath = Array<string | number>;

export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

/** `base` (a formatted path such as `steps[2].executor.config`) extended by a relative key path. */
export function childPath(base: string, rel: KeyPath): string {
  const tail = formatPath(rel);
  if (base === '') return tail;
  if (tail === '') return base;
  return typeof rel[0] === 'number' ? base + tail : `${base}.${tail}`;
}

export class DagLoadError extends SkiffError {
  readonly problems: Problem[];

  constructor(problems: Problem[]) {
    super('config', problems.map((p) => `${formatPlace(p.place)}: ${p.message}`).join('\n'), {
      place: problems[0]?.place,
    });
    this.problems = problems;
  }
}
