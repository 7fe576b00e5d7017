// The code's comments point inside the repository: every `docs/X.md §N` names a file under docs/
// and a section it has, and nothing names a document the repository does not hold (a shared spec,
// a tracker issue, a seed document by number).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/live.js';

const SOURCE = /\.(ts|js|mjs|cjs|sh)$/;
const ROOTS = ['lib', 'cli', 'bin', 'scripts', 'spec', 'examples'];

const SELF = join('house', 'citations.test.');

function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if ((SOURCE.test(entry) || dir.endsWith('scripts')) && !path.includes(SELF)) out.push(path);
    }
  };
  for (const root of ROOTS) if (existsSync(join(repoRoot, root))) walk(join(repoRoot, root));
  return out;
}

/** The section numbers a doc has: `## 4. Images` gives 4, `### 4.3 Pull` gives 4.3. */
function sectionsOf(doc: string): Set<string> {
  const found = new Set<string>();
  for (const m of readFileSync(doc, 'utf8').matchAll(/^#{2,4} (\d+(?:\.\d+)*)\.? /gm)) found.add(m[1]!);
  return found;
}

test('every docs/X.md citation in the code names a file under docs/ and a section it has', () => {
  const problems: string[] = [];
  const docs = new Map<string, Set<string>>();
  let cited = 0;
  for (const file of sources()) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/docs\/([\w-]+\.md)(?: *§(\d+(?:\.\d+)*))?/g)) {
      cited++;
      const doc = join(repoRoot, 'docs', m[1]!);
      const where = `${relative(repoRoot, file)}: ${m[0]}`;
      if (!existsSync(doc)) {
        problems.push(`${where}: no such file`);
        continue;
      }
      if (!docs.has(doc)) docs.set(doc, sectionsOf(doc));
      const section = m[2]?.replace(/\.$/, '');
      if (section && !docs.get(doc)!.has(section)) problems.push(`${where}: no section ${section}`);
    }
  }
  assert.ok(cited > 20, `the code cites docs/ (${cited} citations found)`);
  assert.deepEqual(problems, []);
});

test('no comment names a document outside the repository, a tracker issue or a seed by number', () => {
  const outside = /\.\.\/shared\/|shared\/(spec|seeds|style)\b|(?<![\w/-])(engine-api|dagu-behavior|dagu-v2)\.md|\b[Ii]ssue #?\d+\b|\b[Ss]eed \d{3}\b/;
  const problems: string[] = [];
  for (const file of sources()) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const m = outside.exec(line);
        if (m) problems.push(`${relative(repoRoot, file)}:${i + 1}: ${m[0]}`);
      });
  }
  assert.deepEqual(problems, []);
});
