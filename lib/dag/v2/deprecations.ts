// What `dagu validate` warns about in a 2.x file: syntax that still loads but has a newer
// spelling (the `run`/`action` forms of Dagu 2.7). Warnings never fail a load.
import { formatPath, type Locate, type Problem } from '../../common/problem.js';
import { isObject } from '../validate.js';

type Path = Array<string | number>;

const STEP_KEYS: Array<[key: string, advice: string]> = [
  ['command', 'use run'],
  ['script', 'use run'],
  ['shell', 'use run with with.shell'],
  ['shell_args', 'use run with with.shell_args'],
  ['shell_packages', 'use run with with.shell_packages'],
  ['type', 'use action'],
  ['config', 'use with'],
  ['exec', 'use action: exec'],
  ['call', 'use action: dag.run with with.dag'],
];

export function deprecations(root: unknown, locateKey: Locate): Problem[] {
  const out: Problem[] = [];
  if (!isObject(root)) return out;
  const warn = (path: Path, message: string) =>
    out.push({ path: formatPath(path), message: `Deprecated DAG syntax: ${message}`, place: locateKey(path) });
  const step = (raw: unknown, path: Path) => {
    const where = formatPath(path);
    if (typeof raw === 'string') return warn(path, `${where} string shorthand is deprecated; use run`);
    if (!isObject(raw)) return;
    for (const [key, advice] of STEP_KEYS) if (raw[key] !== undefined) warn([...path, key], `${where}.${key} is deprecated; ${advice}`);
    if (raw.with !== undefined && raw.run === undefined && raw.action === undefined) {
      warn([...path, 'with'], `${where}.with is deprecated with legacy execution syntax; use action with with`);
    }
  };
  const steps = root.steps;
  if (Array.isArray(steps)) {
    steps.forEach((item, i) => (Array.isArray(item) ? item.forEach((m, j) => step(m, ['steps', i, j])) : step(item, ['steps', i])));
  } else if (isObject(steps)) for (const [name, s] of Object.entries(steps)) step(s, ['steps', name]);
  if (isObject(root.handler_on)) for (const [name, s] of Object.entries(root.handler_on)) step(s, ['handler_on', name]);
  if (root.tags !== undefined) warn(['tags'], 'tags is deprecated; use labels');
  return out.sort((a, b) => a.place.line - b.place.line || a.place.col - b.place.col);
}
