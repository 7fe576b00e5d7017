// Building DAGs in tests: a complete Dag value without a file, and YAML written indented.
import { join } from 'node:path';
import { emptyDag } from '../../lib/dag/build.js';
import type { Dag } from '../../lib/common/model.js';

/** A Dag as build.ts makes it for a file `dag.yaml` in `dir` with no keys set, then `extra`. */
export function testDag(dir: string, extra: Partial<Dag> = {}): Dag {
  return { ...emptyDag(join(dir, 'dag.yaml'), dir), name: 'dag', ...extra };
}

/** Strip the common indentation of a template literal, so YAML can be written indented. */
export function yaml(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
