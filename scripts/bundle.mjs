// `npm run bundle`: skiff as one file, dist/skiff.mjs, that runs with `node` alone (nothing else
// installed, nothing fetched): for air-gapped hosts, and for start-up time. Bundles the compiled
// CLI and every runtime dependency; `--version` is answered before anything else is evaluated.
import { build } from 'esbuild';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = join(root, 'dist', 'skiff.mjs');

await build({
  stdin: {
    contents: `
      const args = process.argv.slice(2);
      if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
        process.stdout.write(${JSON.stringify(`${version}\n`)});
      } else {
        const { runExit } = await import('./dist/cli/main.js');
        await runExit(args);
      }
    `,
    resolveDir: root,
    sourcefile: 'skiff-bundle-entry.mjs',
    loader: 'js',
  },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outfile,
  define: { SKIFF_BUNDLED_VERSION: JSON.stringify(version) },
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __skiffCreateRequire } from 'node:module';\nconst require = __skiffCreateRequire(import.meta.url);" },
  legalComments: 'eof',
  logLevel: 'warning',
});
console.log(`bundle: ${outfile} (${(statSync(outfile).size / 1024).toFixed(0)} KiB)`);
