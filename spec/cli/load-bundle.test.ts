// bin/load-bundle.js: the bundle compiled with a V8 code cache beside it. The cache must be made
// once, be used afterwards, and never run the code of an older bundle.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { constants as http2Constants } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-load-bundle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bundle = join(dir, 'bundle.cjs');
const cache = `${bundle}.main.cache`;
const loader = pathToFileURL(join(ROOT, 'bin', 'load-bundle.js')).href;

/** A bundle-shaped CommonJS file: a shebang, require, and an async main. */
function writeBundle(word: string): void {
  writeFileSync(bundle, `#!/usr/bin/env node\nconst { basename } = require('node:path');\nexports.main = async (args) => process.stdout.write(${JSON.stringify(word)} + ' ' + basename(__filename) + ' ' + args.join(','));\n`);
}

function load(cacheName = 'main'): string {
  const code = `const { loadBundle } = await import(${JSON.stringify(loader)}); await loadBundle(${JSON.stringify(bundle)}, ${JSON.stringify(cacheName)}).main(['a', 'b']);`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
}

test('the first run makes the code cache, the next one uses it without rewriting it', () => {
  writeBundle('first');
  assert.equal(load(), 'first bundle.cjs a,b');
  const made = statSync(cache);
  assert.ok(made.size > 0);
  assert.match(readFileSync(cache).subarray(0, 80).toString('latin1'), new RegExp(`^skiff-code-cache ${statSync(bundle).size} `));
  const past = new Date(Math.floor(Date.now() / 1000 - 60) * 1000);
  utimesSync(cache, past, past);
  assert.equal(load(), 'first bundle.cjs a,b');
  assert.equal(Math.round(statSync(cache).mtimeMs), past.getTime(), 'an accepted cache is left as it is');
});

test('a cache made for another bundle of the same length is not used: the new code runs', () => {
  rmSync(cache, { force: true });
  writeBundle('alpha');
  load();
  const before = readFileSync(cache);
  writeBundle('omega');
  const later = new Date(Date.now() + 5_000);
  utimesSync(bundle, later, later);
  assert.equal(load(), 'omega bundle.cjs a,b');
  assert.notDeepEqual(readFileSync(cache), before, 'the cache is made again for the new bundle');
});

test('each command has a cache of its own', () => {
  writeBundle('named');
  rmSync(cache, { force: true });
  assert.equal(load('validate'), 'named bundle.cjs a,b');
  assert.deepEqual(readdirSync(dir).sort(), ['bundle.cjs', 'bundle.cjs.validate.cache']);
  load('main');
  assert.deepEqual(readdirSync(dir).sort(), ['bundle.cjs', 'bundle.cjs.main.cache', 'bundle.cjs.validate.cache']);
  rmSync(`${bundle}.validate.cache`);
});

test('a cache that cannot be written means no cache, not an error, and no temporary file left', () => {
  rmSync(cache, { force: true });
  // A directory where the cache file would go: the rename fails even for root.
  mkdirSync(cache);
  try {
    writeBundle('unwritable');
    assert.equal(load(), 'unwritable bundle.cjs a,b');
    assert.ok(statSync(cache).isDirectory());
    assert.deepEqual(readdirSync(dir).sort(), ['bundle.cjs', 'bundle.cjs.main.cache']);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('the built bundle is one-byte text: V8 keeps it at one byte a character, not two', () => {
  const built = join(ROOT, 'dist', 'skiff.cjs');
  assert.ok(existsSync(built), 'dist/skiff.cjs is built by the test command (npm run build)');
  const text = readFileSync(built, 'utf8');
  const wide = [...text.matchAll(/[^\u0000-\u00ff]/gu)].slice(0, 5);
  assert.deepEqual(
    wide.map((m) => `${JSON.stringify(m[0])} at ${m.index}: ${text.slice(Math.max(0, m.index! - 40), m.index! + 10)}`),
    [],
    'characters beyond U+00FF in dist/skiff.cjs',
  );
});

// scripts/bundle.mjs gives undici a stand-in for node:http2 (constants copied at build time, the
// real module on first use), so a cold start does not load http2, tls and their kin.
test('the built bundle does not load node:http2 until something uses it, and its constants are the real ones', () => {
  const real = join(ROOT, 'dist', 'skiff.cjs');
  const code = `
    const { loadBundle } = await import(${JSON.stringify(loader)});
    const { main } = loadBundle(${JSON.stringify(real)}, 'test-http2');
    const before = new Set(process.moduleLoadList);
    process.on('exit', () => {
      const loaded = process.moduleLoadList.filter((m) => !before.has(m));
      process.stdout.write('\\n' + JSON.stringify({ undiciH2: loaded.includes('NativeModule http2'), tls: loaded.includes('NativeModule tls') }));
    });
    await main(['cleanup']);`;
  // `cleanup` loads the engine client (undici), then fails: no engine answers there.
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DOCKER_HOST: 'unix:///nowhere-skiff-test' } });
  assert.match(run.stderr, /cannot reach the Docker engine/);
  const out = run.stdout;
  const facts = JSON.parse(out.slice(out.lastIndexOf('\n') + 1));
  assert.deepEqual(facts, { undiciH2: false, tls: false });
  // The stand-in's constants, as the bundle holds them, match this node's.
  const source = readFileSync(real, 'utf8');
  const m = /"lazy-http2:http2"[^{]*\{\s*(?:var|const|let) \w+\s*=\s*(\{.*?\});/s.exec(source);
  assert.ok(m, 'the bundle holds the http2 stand-in');
  assert.deepEqual(JSON.parse(m[1] ?? ""), JSON.parse(JSON.stringify(http2Constants)));
  rmSync(`${real}.test-http2.cache`, { force: true });
});
