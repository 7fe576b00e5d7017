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
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const waiting = new Map(nodes.map((n) => [n.name, new Set(n.depends.filter((d) => byName.has(d) && d !== n.name))]));
  const order: T[] = [];
  const placed = new Set<string>();
  while (order.length < nodes.length) {
    const ready = nodes.filter((n) => !placed.has(n.name) && [...waiting.get(n.name)!].every((d) => placed.has(d)));
    if (ready.length === 0 || nodes.some((n) => n.depends.includes(n.name))) {
      const cycle = findCycles(nodes)[0] ?? [];
      throw new SkiffError('config', `dependency cycle: ${cycle.join(' -> ')}`);
    }
    for (const n of ready) {
      placed.add(n.name);
      order.push(n);
    }
  }
  return order;
}
