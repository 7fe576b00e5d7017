#!/usr/bin/env node
// Daemon faults, against a SECOND, private dockerd (never the shared engine):
//   dockerd -H unix:///tmp/skiff-fault/docker.sock --data-root /tmp/skiff-fault/data
//     --exec-root /tmp/skiff-fault/exec --pidfile /tmp/skiff-fault/docker.pid --bridge skifffault0
//     --iptables=false --ip-masq=false --max-download-attempts 1
// (the test image is copied in with `docker save | docker load`). Cases: socket missing, permission
// denied (skiff as `nobody`), daemon SIGKILLed and SIGTERMed in the middle of a step, daemon
// restarted between steps, a registry that stops in the middle of a blob download, a full disk
// (data-root on a 48 MiB tmpfs) during a pull. Each must tell the user, in one clear line, within
// --limit-ms (2000) of the fault, end with no stack trace (`    at `) on stderr, and write the
// report. The private daemon is stopped at the end. Needs root.
//   node scripts/reliability/daemon-faults.mjs [--limit-ms 2000]
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { parseArgs } from './fuzz-lib.mjs';
import { dockerStep, engineEnv, readReport, sandbox, startSkiff, summary } from './common.mjs';

const args = parseArgs(process.argv.slice(2), { limitMs: 2000 });
const BASE = '/tmp/skiff-fault';
const SOCK = `${BASE}/docker.sock`;
const HOST = `unix://${SOCK}`;
const IMAGE = engineEnv.SKIFF_TEST_IMAGE;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dockerP = (...a) => execFileSync('docker', a, { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: HOST }, stdio: ['ignore', 'pipe', 'pipe'] });

let daemon;
let log;
const logFd = () => (log ??= openSync(`${BASE}/dockerd.log`, 'a'));
/** After a SIGKILL: the killed daemon's containerd is gone but its pid file stays, and a reused pid
 * makes the next dockerd wait for a containerd that is not there; its shims linger. Clear both. */
function clearStaleContainerd() {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.startsWith('/usr/bin/containerd-shim') && cmd.includes(`${BASE}/exec/`)) process.kill(Number(e), 'SIGKILL');
    } catch { /* gone */ }
  }
  rmSync(`${BASE}/exec/containerd/containerd.pid`, { force: true });
}

// NOT `--bridge none`: a daemon started with it deletes the host's docker0 interface on start-up
// (moby daemon_unix.go removeDefaultBridgeInterface), which breaks the shared engine's networking.
// A bridge of its own instead, made here and deleted at the end.
const BRIDGE = 'skifffault0';
function ensureBridge() {
  try { execFileSync('ip', ['link', 'show', BRIDGE], { stdio: 'ignore' }); return; } catch { /* make it */ }
  execFileSync('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  execFileSync('ip', ['addr', 'add', '10.213.77.1/24', 'dev', BRIDGE]);
  execFileSync('ip', ['link', 'set', BRIDGE, 'up']);
}

async function startDaemon(dataRoot = `${BASE}/data`, extra = []) {
  mkdirSync(BASE, { recursive: true });
  ensureBridge();
  clearStaleContainerd();
  daemon = spawn('dockerd', ['-H', HOST, '--data-root', dataRoot, '--exec-root', `${BASE}/exec`, '--pidfile', `${BASE}/docker.pid`,
    '--bridge', BRIDGE, '--iptables=false', '--ip-masq=false', '--max-download-attempts', '1', ...extra], { stdio: ['ignore', logFd(), logFd()] });
  const exited = new Promise((r) => daemon.once('exit', r));
  daemon.exited = exited;
  for (let i = 0; i < 200; i++) {
    try { dockerP('version', '--format', '{{.Server.Version}}'); return; } catch { await sleep(100); }
  }
  throw new Error('the private dockerd did not come up in 20 s');
}
async function stopDaemon(signal = 'SIGTERM') {
  if (!daemon || daemon.exitCode !== null || daemon.signalCode !== null) return;
  daemon.kill(signal);
  await daemon.exited;
}

// An already running private daemon (a previous, interrupted run) is stopped first.
if (existsSync(`${BASE}/docker.pid`)) {
  const pid = Number(readFileSync(`${BASE}/docker.pid`, 'utf8'));
  try { process.kill(pid, 'SIGTERM'); for (let i = 0; i < 100; i++) { process.kill(pid, 0); await sleep(100); } } catch { /* gone */ }
}
await startDaemon();
if (!dockerP('images', '-q', IMAGE).trim()) {
  execFileSync('sh', ['-c', `docker save ${IMAGE} | DOCKER_HOST=${HOST} docker load`], { stdio: 'ignore', env: { ...process.env, DOCKER_HOST: '' } });
}

const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A one-entry tar: `name` holding `size` zero bytes. */
function tarOf(name, size) {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(size.toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return Buffer.concat([header, Buffer.alloc(size + ((512 - (size % 512)) % 512)), Buffer.alloc(1024)]);
}

/** A registry serving one single-layer image under any name; `blob(req, res, server)` answers the layer. */
async function fakeRegistry({ layer, diffId }, blob) {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } }));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...layer }] }));
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/' || url === '/v2') { res.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0', 'Content-Length': 2 }); res.end('{}'); return; }
    if (/\/manifests\//.test(url)) {
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json', 'Docker-Content-Digest': sha(manifest), 'Content-Length': manifest.length });
      res.end(req.method === 'HEAD' ? undefined : manifest); return;
    }
    if (url.includes(sha(config).slice(7))) { res.writeHead(200, { 'Content-Length': config.length }); res.end(config); return; }
    if (/\/blobs\//.test(url)) { blob(req, res, server); return; }
    res.writeHead(404, { 'Content-Length': 0 }); res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, close: () => { server.close(); server.closeAllConnections?.(); } };
}

const box = sandbox('skiff-faults-', { DOCKER_HOST: HOST });
chmodSync(box.dir, 0o777);
const results = [];
const problems = [];
const dag = (name, body) => { const f = box.path(`${name}.yaml`); writeFileSync(f, `name: fault-${name}\n${body}`); chmodSync(f, 0o644); return f; };
const pullStep = (image) => `steps:\n${dockerStep('a', 'echo never', '        pull: always\n').replace(`image: ${IMAGE}`, `image: ${image}`)}`;

/** Runs skiff on `file`; `fault(cli)` triggers the fault and returns its time (ms since epoch). */
async function faultCase(name, file, fault, { env = box.env, expect = /./, sign, uid, gid, mustFail = true, limitMs = args.limitMs } = {}) {
  const report = box.path(`${name}.json`);
  const cli = startSkiff(['run', '--report', report, file], env, { uid, gid });
  // When the user is first told (`sign` in the output), or else when skiff ends.
  let toldAt;
  if (sign) void cli.waitFor(sign, 120_000).then(() => { toldAt = Date.now(); }, () => {});
  let faultAt = Date.now();
  try {
    faultAt = (await fault(cli)) ?? faultAt;
  } catch (err) {
    problems.push(`${name}: the fault could not be set up: ${err.message.split('\n')[0]}`);
  }
  const hard = setTimeout(() => cli.child.kill('SIGKILL'), 60_000);
  const res = await cli.done;
  clearTimeout(hard);
  const ms = (toldAt ?? Date.now()) - faultAt;
  const exitMs = Date.now() - faultAt;
  const rep = readReport(report);
  const errLines = res.stderr.split('\n').filter((l) => /error|cannot|failed/i.test(l));
  const ok = (!mustFail || res.code !== 0) && ms <= limitMs && !/\n {4}at /.test(res.stderr) && rep !== undefined && expect.test(res.stdout + res.stderr);
  results.push({ name, code: res.code, ms, exitMs, limitMs, report: rep?.status, error: rep?.error ?? errLines[0] ?? '', told: sign?.exec(res.stdout + res.stderr)?.[0] });
  if (!ok) problems.push(`${name}: exit ${res.code}, ${ms} ms after the fault, report ${rep?.status ?? 'missing'}, stack trace ${/\n {4}at /.test(res.stderr)}, output:\n${(res.stdout + res.stderr).slice(-800)}`);
}

try {
  // 1. socket missing
  await faultCase('socket-missing', dag('missing', `steps:\n${dockerStep('a', 'echo hi')}`), () => Date.now(),
    { env: { ...box.env, DOCKER_HOST: `unix://${BASE}/no-such.sock` }, expect: /does not exist/ });

  // 2. permission denied: skiff as nobody against the root:docker 0660 socket
  await faultCase('permission-denied', dag('perm', `steps:\n${dockerStep('a', 'echo hi')}`), () => Date.now(),
    { uid: 65534, gid: 65534, expect: /permission denied/, env: { ...box.env, SKIFF_STATE_DIR: box.path('state-nobody') } });

  // 3/4. the daemon killed / stopped while a step runs
  for (const signal of ['SIGKILL', 'SIGTERM']) {
    await faultCase(`daemon-${signal}-mid-step`, dag(`mid-${signal}`, `steps:\n${dockerStep('a', 'echo step-running; sleep 60')}`), async (cli) => {
      await cli.waitFor(/step a started/, 30_000);
      await sleep(1000);
      daemon.kill(signal);
      const t = Date.now();
      await daemon.exited; // SIGTERM: the daemon stops its containers first; the fault is its exit
      return signal === 'SIGKILL' ? t : Date.now();
    });
    await startDaemon();
    try { dockerP('rm', '-f', ...dockerP('ps', '-aq', '--filter', 'label=dev.skiff.owner=skiff').split('\n').filter(Boolean)); } catch { /* none */ }
  }

  // 5. the daemon restarted between steps: the run must go on (or fail clearly)
  {
    const file = dag('restart', `steps:\n${dockerStep('a', 'echo one')}  - name: pause\n    command: sleep 12\n    depends: [a]\n${dockerStep('b', 'echo two').replace('  - name: b\n', '  - name: b\n    depends: [pause]\n')}`);
    const report = box.path('restart.json');
    const cli = startSkiff(['run', '--report', report, file], box.env);
    await cli.waitFor(/step pause started/, 30_000);
    await stopDaemon('SIGTERM');
    await startDaemon();
    const res = await cli.done;
    const rep = readReport(report);
    results.push({ name: 'daemon-restarted-between-steps', code: res.code, ms: '-', exitMs: '-', report: rep?.status, error: rep?.error ?? '' });
    if (res.code !== 0 || rep?.status !== 'succeeded') problems.push(`restart between steps: exit ${res.code}, ${rep?.status}: ${(res.stdout + res.stderr).slice(-600)}`);
  }

  // 6. a registry that stops in the middle of a blob download
  {
    const big = 64 << 20;
    let onFault;
    const faulted = new Promise((r) => { onFault = r; });
    const registry = await fakeRegistry({ layer: { size: big, digest: `sha256:${'ab'.repeat(32)}` }, diffId: `sha256:${'0'.repeat(64)}` }, (req, res, server) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': big });
      res.write(gzipSync(Buffer.alloc(4 << 20, 7)).subarray(0, 1 << 20), () => setTimeout(() => {
        req.socket.destroy();
        server.close();
        server.closeAllConnections?.();
        onFault(Date.now());
      }, 300));
    });
    // dockerd retries a broken layer download after 5 s (and more with its default of 5 attempts)
    // before the pull fails; skiff warns at the first retry.
    await faultCase('registry-stops-mid-pull', dag('registry', pullStep(`127.0.0.1:${registry.port}/flaky/app:1`)), async () => faulted,
      { sign: /warning: step a: pull \S+: the download of layer \S+ failed.*/ });
    registry.close();
  }

  // 7. a full disk during a pull: the private daemon again, its data-root on a 48 MiB tmpfs, and a
  // layer (small, gzip of zeros) that unpacks to 128 MiB. The fault is the blob's last byte sent:
  // unpacking starts there and hits ENOSPC within a second.
  {
    await stopDaemon('SIGTERM');
    const small = `${BASE}/small`;
    mkdirSync(small, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'skiff-fault-small', small]);
    try {
      await startDaemon(small, ['--storage-driver', 'vfs']);
      const tar = tarOf('big', 128 << 20);
      const layer = gzipSync(tar);
      let sentAt;
      const registry = await fakeRegistry({ layer: { size: layer.length, digest: sha(layer) }, diffId: sha(tar) }, (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': layer.length });
        res.end(layer, () => { sentAt = Date.now(); });
      });
      await faultCase('disk-full-mid-pull', dag('disk', pullStep(`127.0.0.1:${registry.port}/full/app:1`)), async (cli) => {
        await cli.done;
        return sentAt;
      }, { expect: /no space left on device/ });
      registry.close();
    } finally {
      await stopDaemon('SIGTERM');
      try { execFileSync('umount', [small]); } catch { /* busy: left for the next run's start */ }
    }
  }
} catch (err) {
  problems.push(`crashed: ${err?.stack ?? err}`);
} finally {
  await stopDaemon('SIGTERM');
  clearStaleContainerd();
  // dockerd makes its data-root a private bind mount of itself, and leaves it when it stops.
  try { execFileSync('umount', [`${BASE}/data`], { stdio: 'ignore' }); } catch { /* not mounted */ }
  try { execFileSync('ip', ['link', 'del', BRIDGE], { stdio: 'ignore' }); } catch { /* gone */ }
  box.cleanup();
}
for (const r of results) console.error(`daemon-faults: ${r.name}: exit ${r.code}, told ${r.ms} ms after the fault${r.told ? ` ("${r.told}")` : ''}, exit ${r.exitMs} ms after, report ${r.report}: ${String(r.error).split('\n')[0]}`);
for (const p of problems) console.error(`daemon-faults: FAIL ${p}`);
const timed = results.filter((r) => r.name !== 'daemon-restarted-between-steps');
process.exit(summary('daemon-faults', problems.length === 0, { cases: results.length, worstMsToError: Math.max(...timed.map((r) => r.ms)), worstMsToExit: Math.max(...timed.map((r) => r.exitMs)), limitMs: args.limitMs, problems: problems.length }));
