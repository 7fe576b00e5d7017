// `npm run bundle`: skiff as one file, dist/skiff.cjs, that runs with `node` alone (nothing else
// installed, nothing fetched): for air-gapped hosts, and for start-up time. Bundles the compiled
// CLI and every runtime dependency; `--version` is answered before anything else is evaluated.
//
// CommonJS, not ESM, so that bin/skiff.js can compile it through node:vm with a V8 code cache
// (bin/load-bundle.js): Node 20 has no code cache for ES modules, and parsing 1.3 MB of
// JavaScript is most of what a cold `skiff run` costs before its first engine request.
import { build } from 'esbuild';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = join(root, 'dist', 'skiff.cjs');

// tsc writes outputs but never removes them: a module whose source was moved or deleted would
// stay in dist/, importable and packed by `npm pack`. Remove what no source stands behind.
for (const dir of ['lib', 'cli', 'spec']) {
  let names = [];
  try {
    names = readdirSync(join(root, 'dist', dir), { recursive: true });
  } catch {
    continue;
  }
  for (const name of names) {
    const m = /^(.*)\.(js|js\.map|d\.ts)$/.exec(name);
    if (m && !existsSync(join(root, dir, `${m[1]}.ts`))) rmSync(join(root, 'dist', dir, name), { force: true });
  }
}

// undici's HTTP/2 client requires node:http2 when it loads, only to read header-name constants;
// skiff never speaks HTTP/2 to an engine. Loading http2 (and the tls and http it pulls in) is a
// measurable part of a cold start, so the bundle gets a stand-in: the same constants, copied
// from this node at build time (plain strings and numbers), and everything else from the real
// module on first use.
const lazyHttp2 = {
  name: 'lazy-http2',
  setup(b) {
    b.onResolve({ filter: /^(node:)?http2$/ }, (args) =>
      args.namespace === 'lazy-http2' ? { path: 'node:http2', external: true } : { path: 'http2', namespace: 'lazy-http2' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-http2' }, async () => {
      const { constants } = await import('node:http2');
      return {
        loader: 'js',
        contents: `const constants = ${JSON.stringify(constants)};
let real;
module.exports = new Proxy({ constants }, {
  get(target, key) { return key === 'constants' ? constants : (real ??= require('node:http2'))[key]; },
});`,
      };
    });
  },
};

await build({
  plugins: [lazyHttp2],
  stdin: {
    contents: `
      export async function main(args) {
        const { runExit } = await import('./dist/cli/main.js');
        await runExit(args);
      }
      if (require.main === module) {
        const args = process.argv.slice(2);
        if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) process.stdout.write(${JSON.stringify(`${version}\n`)});
        else void main(args);
      }
    `,
    resolveDir: root,
    sourcefile: 'skiff-bundle-entry.mjs',
    loader: 'js',
  },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // import() inside a node:vm script needs --experimental-vm-modules on Node 20: every import()
  // left (Node's own modules) becomes a require().
  supported: { 'dynamic-import': false },
  outfile,
  define: { SKIFF_BUNDLED_VERSION: JSON.stringify(version), 'import.meta.url': '__skiffModuleUrl' },
  banner: { js: "#!/usr/bin/env node\nconst __skiffModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'eof',
  // Our comments carry characters beyond Latin-1 (→, …); one such character makes V8 hold the
  // whole source as a two-byte string, and peak RSS of every run 5 MB higher. Without comments
  // and whitespace the bundle is one-byte text, and 25 % smaller. Names are kept: stack traces
  // stay readable.
  minifyWhitespace: true,
  logLevel: 'warning',
});
// A code cache belongs to the bundle it was made from.
for (const name of readdirSync(dirname(outfile))) if (/^skiff\.cjs\..*cache$/.test(name)) rmSync(join(dirname(outfile), name), { force: true });
chmodSync(outfile, 0o755);
console.log(`bundle: ${outfile} (${(statSync(outfile).size / 1024).toFixed(0)} KiB)`);
