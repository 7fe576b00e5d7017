// The block-subset reader (lib/dag/block-yaml.ts) against the `yaml` library: where it reads a
// text it must give the library's value and the library's place for every key path (values,
// keys, missing keys, plain scalars' text), and it must leave everything else to the library.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromBlockYaml, fromYamlLibrary, readDagSource, type KeyPath } from '../../lib/dag/load.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Every key path of a value, plus a missing key and a missing index below each. */
function probes(value: unknown, base: KeyPath = [], out: KeyPath[] = []): KeyPath[] {
  out.push(base, [...base, 'no-such-key'], [...base, 7]);
  if (Array.isArray(value)) value.forEach((item, i) => probes(item, [...base, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) probes(v, [...base, k], out);
  return out;
}

/** True when the fast reader took the text; then it must agree with the library everywhere. */
function agrees(text: string, name = 'dag.yaml'): boolean {
  const fast = fromBlockYaml(name, text);
  if (!fast) return false;
  const lib = fromYamlLibrary(name, text);
  assert.deepEqual(lib.problems, [], `the library has problems with a text the fast reader took:\n${text}`);
  assert.deepStrictEqual(fast.value, lib.value, text);
  for (const path of probes(lib.value)) {
    const at = `${JSON.stringify(path)} in:\n${text}`;
    assert.deepEqual(fast.locate(path), lib.locate(path), `locate ${at}`);
    assert.deepEqual(fast.locateKey(path), lib.locateKey(path), `locateKey ${at}`);
    assert.equal(fast.scalarText(path), lib.scalarText(path), `scalarText ${at}`);
  }
  return true;
}

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yamlFiles(path, out);
    else if (/\.ya?ml$/.test(name)) out.push(path);
  }
  return out;
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCALARS = [
  'echo hi', '1', '-1', '+1', '007', '1.10', '1e3', '.5', '.inf', '-.Inf', '.nan', '0x1F', '0o17', '0b1', 'true', 'True', 'FALSE', 'yes',
  'no', 'on', '~', 'null', 'Null', 'a#b', 'a:b', 'http://x:1/y', 'x=1 y=2', '-x', '"quoted # not a comment"', "'it''s'", '""', "''",
  '"a: b"', "'x' # c", 'v  # comment', 'ünïcödé ✓', '$HOME/${X}', '12:30', '2024-01-01', '-.5', '+.5e-3', '1_000', '0.',
];
const LISTS = ['[]', '[ ]', '[a]', '[a, b]', '[ a ,b ]', '[1, true, ~, null, 0x1F]', '["x, y", \'it\'\'s\', plain text]', '[-1, .5] # c', '[a]   # c'];
const BLOCKS = [
  ['|', '  echo a', '  echo b'],
  ['|-', '  echo a', '', '  # not a comment', '    indented more  '],
  ['| # note', '    deep', '  ', '    deeper'],
  ['|', '  last', '', ''],
];
const KEYS = ['name', 'command', 'depends', 'env', 'x', 'constructor', 'toString', 'a-b', 'a.b', 'k:v', 'ключ', 'on', 'y', 'n', '-k'];

/** A random document in (and sometimes just outside) the block subset. */
function randomDoc(next: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const lines: string[] = [];
  const extra = () => {
    if (next() < 0.1) lines.push('');
    if (next() < 0.1) lines.push(`${' '.repeat(Math.floor(next() * 6))}# note`);
  };
  /** A `|` block after `lead`, its text indented one or two spaces more than `pad`. */
  const literal = (pad: string, lead: string) => {
    const [header, ...body] = pick(BLOCKS);
    lines.push(`${pad}${lead}${header}`, ...body.map((l) => (l.trim() === '' ? l : `${pad}${' '.repeat(1 + Math.floor(next() * 2))}${l}`)));
  };
  const block = (indent: number, depth: number, asSeqAtKey = false): void => {
    const pad = ' '.repeat(indent);
    const seq = asSeqAtKey || next() < 0.4;
    const count = 1 + Math.floor(next() * 4);
    const used = new Set<string>();
    for (let i = 0; i < count; i++) {
      extra();
      if (seq) {
        const r = next();
        if (r < 0.3 || depth > 2) lines.push(`${pad}- ${pick(SCALARS)}`);
        else if (r < 0.4) lines.push(`${pad}- ${pick(LISTS)}`);
        else if (r < 0.45) {
          literal(pad, '- ');
        }
        else {
          // A compact mapping as the item: its keys line up after "- ".
          const gap = ' '.repeat(1 + Math.floor(next() * 2));
          const inner = indent + 1 + gap.length;
          const first = lines.length;
          mapEntries(inner, depth + 1, new Set());
          lines[first] = `${pad}-${gap}${lines[first]!.slice(inner)}`;
        }
      } else {
        mapEntry(indent, depth, used);
      }
    }
  };
  const mapEntries = (indent: number, depth: number, used: Set<string>) => {
    const count = 1 + Math.floor(next() * 3);
    for (let i = 0; i < count; i++) mapEntry(indent, depth, used);
  };
  const mapEntry = (indent: number, depth: number, used: Set<string>) => {
    const pad = ' '.repeat(indent);
    let key = pick(KEYS);
    if (used.has(key) && next() < 0.9) key = `${key}${used.size}`;
    used.add(key);
    const r = next();
    if (r < 0.45 || depth > 2) lines.push(`${pad}${key}: ${pick(SCALARS)}`);
    else if (r < 0.55) lines.push(`${pad}${key}: ${pick(LISTS)}`);
    else if (r < 0.6) {
      literal(pad, `${key}: `);
    }
    else if (r < 0.65) lines.push(`${pad}${key}:${next() < 0.5 ? '' : '   # empty'}`);
    else {
      lines.push(`${pad}${key}:${next() < 0.2 ? ' # below' : ''}`);
      const sameIndentSeq = next() < 0.3;
      block(sameIndentSeq ? indent : indent + 1 + Math.floor(next() * 3), depth + 1, sameIndentSeq);
    }
  };
  mapEntries(0, 0, new Set());
  return `${lines.join('\n')}${next() < 0.8 ? '\n' : ''}`;
}

describe('block-subset YAML reader', () => {
  it('reads a chained DAG of many steps, with the library’s places', () => {
    const lines = ['# a long chain', 'steps:'];
    for (let i = 0; i < 300; i++) lines.push(`  - name: s${i}`, `    command: echo ${i}`, ...(i > 0 ? [`    depends: s${i - 1}`] : []));
    assert.ok(agrees(`${lines.join('\n')}\n`), 'the fast reader gave up on a plain chain');
  });

  it('agrees with the library on every example and fixture DAG it reads', () => {
    const files = [...yamlFiles(join(root, 'examples')), ...yamlFiles(join(root, 'fixtures/dags'))];
    const read = files.filter((file) => agrees(readFileSync(file, 'utf8'), file));
    // Most example DAGs are plain block YAML; if none were read, the reader no longer reads DAG files.
    assert.ok(read.length >= 20, `only ${read.length} of ${files.length} files were read by the fast reader`);
  });

  it('agrees with the library on generated documents', () => {
    let taken = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const text = randomDoc(random(seed));
      try {
        if (agrees(text)) taken++;
      } catch (err) {
        throw new Error(`seed ${seed}: ${(err as Error).message}`);
      }
    }
    assert.ok(taken >= 200, `the fast reader took only ${taken} of 400 generated documents`);
  });

  it('leaves to the library what is outside the subset', () => {
    const outside: Record<string, string> = {
      anchor: 'a: &x 1\nb: *x\n',
      'merge key': 'a:\n  <<: b\n',
      tag: 'a: !!str 1\n',
      'nested flow sequence': 'depends: [a, [b]]\n',
      'flow sequence with a trailing comma': 'depends: [a, ]\n',
      'flow sequence with an empty item': 'depends: [a, , b]\n',
      'flow pair': 'depends: [a: 1]\n',
      'flow sequence over lines': 'depends: [a,\n  b]\n',
      'text after a flow sequence': 'depends: [a] b\n',
      'flow mapping': 'env: {A: 1}\n',
      'kept block scalar': 'script: |+\n  echo a\n\n',
      'indentation indicator': 'script: |2\n   echo a\n',
      'block scalar with a blank first line': 'script: |\n\n  echo a\n',
      'block scalar without a last line break': 'script: |\n  echo a',
      'empty block scalar': 'script: |\nx: 1\n',
      'block scalar over-indented blank line': 'script: |\n  a\n      \n  b\n',
      'folded scalar': 'script: >\n  echo a\n',
      'multi-line plain scalar': 'command: echo a\n  b\n',
      'double-quoted escape': 'command: "a\\tb"\n',
      'multi-line quoted': 'command: "a\n  b"\n',
      'colon in a plain value': 'command: echo "a"; echo "error: x"\n',
      'duplicate key': 'a: 1\na: 2\n',
      'quoted key': '"a": 1\n',
      'integer key': '1: a\n',
      'null key': '~: a\n',
      'proto key': '__proto__: a\n',
      'tab indent': 'steps:\n\t- a\n',
      'CRLF lines': 'a: 1\r\nb: 2\r\n',
      'two documents': 'a: 1\n---\nb: 2\n',
      'document start': '--- \na: 1\n',
      'empty list item': 'a:\n  -\n  - b\n',
      'nested compact list': 'a:\n  - - b\n',
      'scalar document': 'hello\n',
      'empty document': '# only a comment\n',
      'bad indentation': 'a:\n    b: 1\n  c: 2\n',
      'list item after a value': 'a: 1\n- b\n',
      'long key': `${'k'.repeat(1100)}: 1\n`,
    };
    for (const [what, text] of Object.entries(outside)) assert.equal(fromBlockYaml('f.yaml', text), undefined, what);
  });

  it('places a value, its key, and the nearest parent of a missing key (readDagSource)', () => {
    const text = 'steps:\n  - name: a\n    command: echo 1\n    depends: b\n';
    const source = readDagSource('/x/dag.yaml', text);
    assert.deepEqual(source.locate(['steps', 0, 'depends']), { file: '/x/dag.yaml', line: 4, col: 14 });
    assert.deepEqual(source.locateKey(['steps', 0, 'depends']), { file: '/x/dag.yaml', line: 4, col: 5 });
    assert.deepEqual(source.locate(['steps', 0, 'retryPolicy', 'limit']), { file: '/x/dag.yaml', line: 2, col: 5 });
  });
});
