// `depends` as a graph: cycle detection for the loader (Dagu rejects cycles when it builds the
// plan, §1.2) and a stable topological order for whoever needs one.
import { SkiffError } from '../common/errors.js';

export interface GraphNode {
  name: string;
  /** Names of the nodes this one waits for. */
  depends: readonly string[];
}

/**
 * Every distinct cycle, each written in `depends` direction and starting at its step that comes
 * first in the list: `['a', 'b', 'a']` means a depends on b, which depends on a. Dependencies on
 * names that are not in the list are ignored (the loader reports those separately).
 */
export function findCycles(nodes: readonly GraphNode[]): string[][] {
  const index = new Map(nodes.map((n, i) => [n.name, i]));
  // By index (a name's last, as `index` says): 0 unvisited, 1 open, 2 done.
  const state = new Uint8Array(nodes.length);
  const OPEN = 1;
  const DONE = 2;
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();

  const record = (dep: string): void => {
    const loop = stack.slice(stack.lastIndexOf(dep));
    const key = [...loop].sort().join('\0');
    if (seen.has(key)) return;
    seen.add(key);
    let first = 0;
    loop.forEach((n, i) => {
      if (index.get(n)! < index.get(loop[first]!)!) first = i;
    });
    const rotated = [...loop.slice(first), ...loop.slice(0, first)];
    cycles.push([...rotated, rotated[0]!]);
  };
  // Depth first, with the path kept in `stack` and each open node's next dependency in `next`:
  // no recursion, so a chain of 100 000 steps written last-first does not overflow the call stack.
  const next: number[] = [];
  const open = (name: string): void => {
    state[index.get(name)!] = OPEN;
    stack.push(name);
    next.push(0);
  };
  for (const node of nodes) {
    if (state[index.get(node.name)!] !== 0) continue;
    open(node.name);
    while (stack.length > 0) {
      const top = stack.length - 1;
      const depends = nodes[index.get(stack[top]!)!]!.depends;
      if (next[top]! >= depends.length) {
        state[index.get(stack.pop()!)!] = DONE;
        next.pop();
        continue;
      }
      const dep = depends[next[top]!++]!;
      const at = index.get(dep);
      if (at === undefined) continue;
      if (state[at] === 0) open(dep);
      else if (state[at] === OPEN) record(dep);
    }
  }
  return cycles.sort((a, b) => index.get(a[0]!)! - index.get(b[0]!)!);
}

/**
 * The nodes ordered so that each comes after everything it depends on; among nodes that are
 * ready together, list order is kept. Throws a `config` SkiffError naming a cycle if there is one.
 */
export function topologicalOrder<T extends GraphNode>(nodes: readonly T[]): T[] {
  // In waves: a node comes in the wave after the last of its dependencies (the first when it has
  // none), and in file order within a wave. Kahn's algorithm gives each node its wave in one pass.
  const index = new Map(nodes.map((n, i) => [n.name, i]));
  const waiting = new Array<number>(nodes.length).fill(0);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const d of new Set(n.depends)) {
      const j = index.get(d);
      if (j === undefined) continue;
      if (j === i) throw cycleError(nodes);
      waiting[i]!++;
      dependents[j]!.push(i);
    }
  });
  const wave = new Array<number>(nodes.length).fill(0);
  const ready = nodes.map((_, i) => i).filter((i) => waiting[i] === 0);
  for (let k = 0; k < ready.length; k++) {
    const i = ready[k]!;
    for (const j of dependents[i]!) {
      wave[j] = Math.max(wave[j]!, wave[i]! + 1);
      if (--waiting[j]! === 0) ready.push(j);
    }
  }
  if (ready.length < nodes.length) throw cycleError(nodes);
  return nodes
    .map((n, i) => ({ n, i }))
    .sort((a, b) => wave[a.i]! - wave[b.i]! || a.i - b.i)
    .map(({ n }) => n);
}

function cycleError(nodes: readonly GraphNode[]): SkiffError {
  const cycle = findCycles(nodes)[0] ?? [];
  return new SkiffError('config', `dependency cycle: ${cycle.join(' -> ')}`);
}
