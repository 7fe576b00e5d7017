// bin/skiff.js runs the bundle when it is newer than every source, whatever tsc last rewrote, and
// the compiled CLI when a source changed after the bundle was made.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ROOT } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-bundle-choice-'));
after(() => rmSync(dir, { recursive: true, force: true }));

cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', version: '0.0.0' }));
mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
mkdirSync(join(dir, 'lib', 'engine'), { recursive: true });
writeFileSync(join(dir, 'dist', 'skiff.cjs'), "exports.main = async () => process.stdout.write('bundle');\n");
writeFileSync(join(dir, 'dist', 'cli', 'main.js'), "export async function runExit() { process.stdout.write('dist/cli'); }\n");
writeFileSync(join(dir, 'lib', 'engine', 'demux.ts'), '');

function at(path: string, seconds: number): void {
  utimesSync(join(dir, path), seconds, seconds);
}

function which(): string {
  return execFileSync(process.execPath, [join(dir, 'bin', 'skiff.js'), 'validate', 'x.yaml'], { encoding: 'utf8' });
}

test('a bundle newer than every source runs, even when tsc rewrote dist/cli after it', () => {
  at('lib/engine/demux.ts', 1000);
  at('dist/skiff.cjs', 2000);
  at('dist/cli/main.js', 3000);
  assert.equal(which(), 'bundle');
});

test('a source changed after the bundle was made sends the CLI to dist/cli', () => {
  at('dist/skiff.cjs', 2000);
  at('lib/engine/demux.ts', 2500);
  assert.equal(which(), 'dist/cli');
});
