// Cycle detection and topological order over `depends`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findCycles, topologicalOrder } from '../../lib/dag/graph.js';
import { isSkiffError } from '../../lib/common/errors.js';

const node = (name: string, ...depends: string[]) => ({ name, depends });

describe('findCycles', () => {
  it('finds none in a DAG, ignoring unknown names', () => {
    assert.deepEqual(findCycles([node('a'), node('b', 'a'), node('c', 'a', 'b', 'ghost')]), []);
  });

  it('writes a cycle in depends direction, starting at its first listed step', () => {
    assert.deepEqual(findCycles([node('x'), node('a', 'c'), node('b', 'a'), node('c', 'b')]), [['a', 'c', 'b', 'a']]);
  });

  it('reports a self-dependency and separate cycles once each', () => {
    assert.deepEqual(findCycles([node('a', 'a'), node('b', 'c'), node('c', 'b'), node('d', 'b')]), [
      ['a', 'a'],
      ['b', 'c', 'b'],
    ]);
  });

  it('follows a chain of 100 000 steps written last-first without running out of stack', () => {
    const n = 100_000;
    const chain = Array.from({ length: n }, (_, i) => (i < n - 1 ? node(`s${i}`, `s${i + 1}`) : node(`s${i}`)));
    assert.deepEqual(findCycles(chain), []);
    // The same chain closed into a loop: one cycle through every step, from the first listed.
    chain[n - 1] = node(`s${n - 1}`, 's0');
    const [cycle, ...others] = findCycles(chain);
    assert.deepEqual(others, []);
    assert.equal(cycle!.length, n + 1);
    assert.deepEqual([cycle![0], cycle![1], cycle![n - 1], cycle![n]], ['s0', 's1', `s${n - 1}`, 's0']);
  });

  it('finds every cycle reached through shared nodes, in list order of their first step', () => {
    const graph = [node('a', 'b', 'c'), node('b', 'a'), node('c', 'd'), node('d', 'c', 'a'), node('e', 'e', 'a')];
    assert.deepEqual(findCycles(graph), [
      ['a', 'b', 'a'],
      ['a', 'c', 'd', 'a'],
      ['c', 'd', 'c'],
      ['e', 'e'],
    ]);
  });
});

describe('topologicalOrder', () => {
  it('puts every node after its dependencies, keeping list order among ready nodes', () => {
    const order = topologicalOrder([node('d', 'b', 'c'), node('b', 'a'), node('c', 'a'), node('a')]);
    assert.deepEqual(order.map((n) => n.name), ['a', 'b', 'c', 'd']);
  });

  it('keeps independent nodes in list order', () => {
    assert.deepEqual(topologicalOrder([node('z'), node('y'), node('x')]).map((n) => n.name), ['z', 'y', 'x']);
  });

  it('throws a config error naming the cycle', () => {
    assert.throws(
      () => topologicalOrder([node('a', 'b'), node('b', 'a')]),
      (err: unknown) => isSkiffError(err, 'config') && err.message === 'dependency cycle: a -> b -> a',
    );
    assert.throws(() => topologicalOrder([node('a', 'a')]), /dependency cycle: a -> a/);
  });

  // The order `skiff graph` draws: waves of nodes whose dependencies are all in earlier waves,
  // list order within a wave. Said the plain way (one scan of every node per wave) as the reference.
  const byWaves = (nodes: { name: string; depends: string[] }[]): string[] => {
    const known = new Set(nodes.map((n) => n.name));
    const placed = new Set<string>();
    const order: string[] = [];
    while (order.length < nodes.length) {
      const ready = nodes.filter((n) => !placed.has(n.name) && n.depends.every((d) => !known.has(d) || placed.has(d)));
      for (const n of ready) placed.add(n.name);
      order.push(...ready.map((n) => n.name));
    }
    return order;
  };

  it('gives the waves order on random DAGs (repeated and unknown dependencies included)', () => {
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 300; round++) {
      const size = 1 + random(30);
      const names = Array.from({ length: size }, (_, i) => `s${i}`);
      // Edges only towards lower numbers, then the list shuffled: acyclic in any order.
      const nodes = names.map((name, i) => node(name, ...Array.from({ length: random(4) }, () => (random(5) === 0 ? 'ghost' : names[random(i + 1)]!)).filter((d) => d !== name)));
      for (let i = nodes.length - 1; i > 0; i--) {
        const j = random(i + 1);
        [nodes[i], nodes[j]] = [nodes[j]!, nodes[i]!];
      }
      assert.deepEqual(topologicalOrder(nodes).map((n) => n.name), byWaves(nodes), JSON.stringify(nodes));
    }
  });

  it('orders a 100 000-step chain written last-first (one pass, not a scan per wave)', { timeout: 60_000 }, () => {
    const n = 100_000;
    const nodes = Array.from({ length: n }, (_, k) => {
      const i = n - 1 - k;
      return i === 0 ? node('s0') : node(`s${i}`, `s${i - 1}`);
    });
    const order = topologicalOrder(nodes);
    assert.equal(order[0]!.name, 's0');
    assert.equal(order[n - 1]!.name, `s${n - 1}`);
  });
});
