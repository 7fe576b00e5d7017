#!/usr/bin/env node
// No secret leaks: a DAG whose registryAuths carries the test password pulls from the htpasswd
// registry (127.0.0.1:5001), run with --record DIR and --report FILE; then the state dir (logs),
// the report, the recording, stdout/stderr, and /proc/<pid>/cmdline of skiff and every process it
// starts (sampled every few ms while it runs) are searched, as are the text of a refused pull
// (wrong user, real password) and every committed file under fixtures/; searched for the password,
// its base64 and base64url forms, base64(user:password) and the X-Registry-Auth header value (both alphabets).
//   node scripts/reliability/secrets.mjs [--runs 3]
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from './fuzz-lib.mjs';
import { engineEnv, openEngine, readReport, root, sandbox, startSkiff, summary } from './common.mjs';

const args = parseArgs(process.argv.slice(2), { runs: 3 });
const REGISTRY = engineEnv.SKIFF_AUTH_REGISTRY;
const IMAGE = `${REGISTRY}/busybox:latest`;
const USER = engineEnv.SKIFF_REGISTRY_USER;
const PASSWORD = engineEnv.SKIFF_REGISTRY_PASSWORD;
const { encodeRegistryAuth } = await import(pathToFileURL(join(root, 'dist', 'lib', 'engine', 'auth.js')).href);
const { REGISTRY_IMAGE_LOCK, withImageLock } = await import(pathToFileURL(join(root, 'dist', 'spec', 'support', 'skiff-cli.js')).href);

const header = encodeRegistryAuth({ username: USER, password: PASSWORD }, REGISTRY);
const forms = {
  password: PASSWORD,
  base64: Buffer.from(PASSWORD).toString('base64'),
  base64url: Buffer.from(PASSWORD).toString('base64url'),
  'base64(user:password)': Buffer.from(`${USER}:${PASSWORD}`).toString('base64'),
  'base64url(user:password)': Buffer.from(`${USER}:${PASSWORD}`).toString('base64url'),
  'X-Registry-Auth': header,
  'X-Registry-Auth (std alphabet)': header.replace(/-/g, '+').replace(/_/g, '/'),
  'base64(json)': Buffer.from(JSON.stringify({ username: USER, password: PASSWORD, serveraddress: REGISTRY })).toString('base64'),
};

function allFiles(dir) {
  const out = [];
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

/** Pids of `pid` and all its descendants, from /proc. */
function tree(pid) {
  const children = new Map();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(e));
    } catch { /* gone */ }
  }
  const out = [];
  const walk = (p) => { out.push(p); for (const c of children.get(p) ?? []) walk(c); };
  walk(pid);
  return out;
}

const problems = [];
let samples = 0;
let pidsSeen = new Set();
let bytesSearched = 0;
let pulls = 0;
let errorText = '';
let fixtureFiles = 0;
const engine = await openEngine();
try {
  // The last run has a wrong user name with the real password: the registry refuses, and the error
  // text that reaches the user and the report must not carry the password either.
  for (let run = 0; run <= args.runs; run++) {
    const box = sandbox('skiff-secrets-');
    const refused = run === args.runs;
    try {
      // Half the runs have the secret in the file, half take it from the environment.
      const inline = run % 2 === 1;
      writeFileSync(box.path('dag.yaml'), `name: secrets-check
registryAuths:
  "${REGISTRY}":
    username: ${refused ? 'not-the-user' : USER}
    password: ${inline ? JSON.stringify(PASSWORD) : '${REGISTRY_PASSWORD}'}
steps:
  - name: pull-and-run
    executor:
      type: docker
      config:
        image: ${IMAGE}
        pull: always
        autoRemove: true
    command: echo pulled-and-ran
  - name: local-child
    command: sleep 1
`);
      await withImageLock(REGISTRY_IMAGE_LOCK, async () => {
        await engine.images.remove(IMAGE, { force: true }).catch(() => {});
        const report = box.path('report.json');
        const rec = box.path('recording');
        const cli = startSkiff(['run', '--record', rec, '--report', report, box.path('dag.yaml')], { ...box.env, REGISTRY_PASSWORD: inline ? undefined : PASSWORD });
        const cmdlines = [];
        let running = true;
        void cli.done.then(() => { running = false; });
        while (running) {
          for (const pid of tree(cli.child.pid)) {
            try { cmdlines.push(readFileSync(`/proc/${pid}/cmdline`, 'latin1')); pidsSeen.add(pid); } catch { /* gone */ }
          }
          samples++;
          await new Promise((r) => setTimeout(r, 5));
        }
        const res = await cli.done;
        const rep = readReport(report);
        if (refused) {
          if (res.code === 0 || rep?.status !== 'failed') problems.push(`refused run: exit ${res.code}, status ${rep?.status}`);
          errorText = rep?.error ?? res.stderr;
        } else if (res.code !== 0 || rep?.status !== 'succeeded') problems.push(`run ${run}: exit ${res.code}, status ${rep?.status}: ${res.stderr.slice(-400)}`);
        if (!refused) pulls++;
        const places = { stdout: res.stdout, stderr: res.stderr, cmdline: cmdlines.join('\n') };
        for (const f of [report, ...allFiles(box.path('state')), ...allFiles(rec)]) places[f] = readFileSync(f, 'latin1');
        if (allFiles(rec).length === 0) problems.push(`run ${run}: the recording is empty`);
        for (const [where, text] of Object.entries(places)) {
          bytesSearched += text.length;
          for (const [name, form] of Object.entries(forms)) if (text.includes(form)) problems.push(`run ${run}: ${name} of the password appears in ${where}`);
        }
        await engine.images.remove(IMAGE, { force: true }).catch(() => {});
      });
    } finally {
      box.cleanup();
    }
  }
  // The committed fixtures (recordings of live runs, DAG files) must not carry it either.
  for (const f of allFiles(join(root, 'fixtures'))) {
    const text = readFileSync(f, 'latin1');
    fixtureFiles++;
    bytesSearched += text.length;
    for (const [name, form] of Object.entries(forms)) if (text.includes(form)) problems.push(`${name} of the password appears in ${f}`);
  }
} catch (err) {
  problems.push(`crashed: ${err?.stack ?? err}`);
} finally {
  await engine.close();
}
for (const p of problems) console.error(`secrets: ${p}`);
process.exit(summary('secrets', problems.length === 0, { runs: args.runs + 1, pulled: pulls, refusedError: JSON.stringify(errorText.split('\n')[0].slice(0, 120)), fixtureFiles, forms: Object.keys(forms).length, cmdlineSamples: samples, pids: pidsSeen.size, bytesSearched, leaks: problems.length }));
