// `skiff graph`: a DAG's shape as text. `ascii` draws the steps in dependency order with a lane
// per pending edge (as `git log --graph` does): a lane splits where a step has several dependents
// and lanes join where a step waits for several. `mermaid` and `dot` are for other tools. With a run's
// statuses, each step carries its status (coloured when `paint` colours).
import type { Paint } from './format.js';
import { statusColour } from './status-tree.js';
import { statusWords } from './summary.js';

export type GraphFormat = 'ascii' | 'mermaid' | 'dot';

export interface GraphNode {
  name: string;
  depends: readonly string[];
}

export interface GraphInput {
  name: string;
  /** In dependency order (each after everything it depends on). */
  nodes: readonly GraphNode[];
  /** A run's step statuses, by step name. */
  statuses?: ReadonlyMap<string, string>;
  paint: Paint;
}

export function renderGraph(input: GraphInput, format: GraphFormat): string {
  if (format === 'mermaid') return mermaid(input);
  if (format === 'dot') return dot(input);
  return ascii(input);
}

function dependents(nodes: readonly GraphNode[]): Map<string, string[]> {
  const kids = new Map<string, string[]>(nodes.map((n) => [n.name, []]));
  for (const n of nodes) for (const d of new Set(n.depends)) kids.get(d)?.push(n.name);
  return kids;
}

function ascii(input: GraphInput): string {
  const { nodes, statuses, paint } = input;
  const kids = dependents(nodes);
  const lanes: Array<string | null> = [];
  const lines: string[] = [];
  let continuing: number | undefined;
  const row = (cells: string[], joined: (col: number) => boolean): string =>
    cells.map((cell, col) => cell + (col < cells.length - 1 ? (joined(col) ? '─' : ' ') : '')).join('').trimEnd();
  /** Lanes `ends` join lane `c` from the right (`╯`, `┴`) or leave it to the right (`╮`, `┬`); lanes they cross show `┼`. */
  const fork = (c: number, ends: readonly number[], lastGlyph: string, midGlyph: string): string => {
    const last = Math.max(...ends);
    const cells = lanes.map((t, col) => {
      if (col === c) return '├';
      if (col === last) return lastGlyph;
      if (ends.includes(col)) return midGlyph;
      if (col > c && col < last) return t !== null ? '┼' : '─';
      return t !== null ? '│' : ' ';
    });
    return row(cells, (col) => col >= c && col < last);
  };

  for (const node of nodes) {
    let targets = lanes.flatMap((t, col) => (t === node.name ? [col] : []));
    if (targets.length === 0) {
      const free = lanes.indexOf(null);
      const col = free >= 0 ? free : lanes.length;
      lanes[col] = node.name;
      targets = [col];
    }
    const c = targets[0]!;
    // Every edge shows as a line: a step right below another with nothing between them does not
    // depend on it, so a lane that goes straight on to the next step gets a line of its own.
    if (continuing === c && targets.length === 1) lines.push(row(lanes.map((t) => (t !== null ? '│' : ' ')), () => false));
    continuing = undefined;
    if (targets.length > 1) {
      lines.push(fork(c, targets.slice(1), '╯', '┴'));
      for (const t of targets.slice(1)) lanes[t] = null;
    }
    const cells = lanes.map((t, col) => (col === c ? '●' : t !== null ? '│' : ' '));
    lines.push(`${row(cells, () => false)} ${label(node.name, statuses, paint)}`);

    const children = kids.get(node.name) ?? [];
    lanes[c] = children[0] ?? null;
    const opened: number[] = [];
    for (const child of children.slice(1)) {
      let col = c + 1;
      while (col < lanes.length && lanes[col] !== null) col++;
      lanes[col] = child;
      opened.push(col);
    }
    if (opened.length > 0) {
      lines.push(fork(c, opened, '╮', '┬'));
    } else if (lanes[c] !== null) {
      continuing = c;
    }
    while (lanes.length > 0 && lanes[lanes.length - 1] === null) lanes.pop();
  }
  return lines.map((l) => `${l}\n`).join('');
}

function label(name: string, statuses: ReadonlyMap<string, string> | undefined, paint: Paint): string {
  const status = statuses?.get(name);
  if (status === undefined) return name;
  return `${paint(statusColour(status), name)} ${paint(statusColour(status), `[${statusWords(status)}]`)}`;
}

const FILLS: Record<string, string> = { green: '#c8e6c9', red: '#ffcdd2', yellow: '#fff9c4', cyan: '#b3e5fc', dim: '#eeeeee' };

function mermaid(input: GraphInput): string {
  const ids = new Map(input.nodes.map((n, i) => [n.name, `s${i}`]));
  const lines = ['flowchart TD'];
  for (const n of input.nodes) {
    const status = input.statuses?.get(n.name);
    const text = status === undefined ? n.name : `${n.name} [${statusWords(status)}]`;
    lines.push(`  ${ids.get(n.name)}["${text.replace(/"/g, '#quot;')}"]`);
  }
  for (const n of input.nodes) for (const d of new Set(n.depends)) if (ids.has(d)) lines.push(`  ${ids.get(d)} --> ${ids.get(n.name)}`);
  if (input.statuses) {
    const used = new Set<string>();
    for (const n of input.nodes) {
      const status = input.statuses.get(n.name);
      if (status === undefined) continue;
      used.add(status);
      lines.push(`  class ${ids.get(n.name)} ${status}`);
    }
    for (const status of used) lines.push(`  classDef ${status} fill:${FILLS[statusColour(status)]}`);
  }
  return `${lines.join('\n')}\n`;
}

function dot(input: GraphInput): string {
  const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const q = (s: string): string => `"${esc(s)}"`;
  const lines = [`digraph ${q(input.name)} {`, '  rankdir=TB;', '  node [shape=box];'];
  for (const n of input.nodes) {
    const status = input.statuses?.get(n.name);
    if (status === undefined) lines.push(`  ${q(n.name)};`);
    else lines.push(`  ${q(n.name)} [label="${esc(n.name)}\\n${esc(statusWords(status))}", style=filled, fillcolor=${q(FILLS[statusColour(status)]!)}];`);
  }
  for (const n of input.nodes) for (const d of new Set(n.depends)) if (input.nodes.some((m) => m.name === d)) lines.push(`  ${q(d)} -> ${q(n.name)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
