// Loads dist/skiff.cjs through node:vm with a V8 code cache beside it (skiff.cjs.NAME.cache), the
// way Node 22's module.enableCompileCache() would: with the cache, V8 skips parsing and
// compiling the 1.3 MB bundle, which is most of a cold `skiff run`'s time before its first engine
// request. The cache is an optimisation only: a missing, stale or rejected one means a normal
// compile, and a directory we cannot write to means no cache, never an error.
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';

/**
 * V8 accepts a cache whose source has the same length, so the cache carries its own key: the
 * bundle's size and mtime and the node that made it.
 */
function cacheKey(file) {
  const { size, mtimeMs } = statSync(file);
  return Buffer.from(`skiff-code-cache ${size} ${mtimeMs} ${process.version} ${process.arch}\n`);
}

function readCache(path, key) {
  try {
    const data = readFileSync(path);
    return data.subarray(0, key.length).equals(key) ? data.subarray(key.length) : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(path, key, data) {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, Buffer.concat([key, data]));
    renameSync(temp, path);
  } catch {
    rmSync(temp, { force: true });
  }
}

/**
 * Returns the bundle's exports ({ main }). `cacheName` picks the cache: one per command, since a
 * cache holds what the run that made it compiled (`skiff run` needs far more than `validate`).
 */
export function loadBundle(file, cacheName = 'main') {
  // V8 rejects a cache made under other flags; runExit sets this one too (the unbundled CLI), so
  // set it before compiling, where the cache is made and where it is used.
  setFlagsFromString('--liftoff-only');
  const cachePath = `${file}.${cacheName}.cache`;
  const key = cacheKey(file);
  const cachedData = readCache(cachePath, key);
  const source = readFileSync(file, 'utf8').replace(/^#!/, '//');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // Made at exit, so it holds the functions this command compiled, not just the top level.
    process.once('exit', () => writeCache(cachePath, key, script.createCachedData()));
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}
