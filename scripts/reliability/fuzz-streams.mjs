#!/usr/bin/env node
// Fuzzes the engine stream parsers with split, truncated and garbled input:
//   - Demuxer (sync) and DemuxStream (a Writable fed through pipeline) with Docker's 8-byte framing;
//   - readJsonLines with progress-stream JSON lines;
//   - the attach/exec hijack: Transport.hijack on an undici Pool, and a borrowed connection
//     (borrowed.ts + pumpOutput), pointed at a local server that answers
//     the Upgrade request with random bytes, a truncated 101, garbage headers, error statuses…
// Every error must be a SkiffError; nothing may hang (per-case deadline); an intact stream must
// come out exactly as it went in.
//   node scripts/reliability/fuzz-streams.mjs [--cases 10000] [--seed N] [--case-ms 5000]
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, rng } from './fuzz-lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const lib = (p) => import(pathToFileURL(join(root, 'dist', 'lib', 'engine', p)).href);
const { Demuxer, DemuxStream } = await lib('demux.js');
const { readJsonLines } = await lib('json-lines.js');
const { hijack } = await lib('hijack.js');
const { openBorrowed } = await lib('borrowed.js');
const { pumpOutput } = await lib('framing.js');
const { Transport } = await lib('request.js');
const { SkiffError } = await lib('errors.js');
const { Pool } = await import('undici');

class Sink extends Writable {
  parts = [];
  _write(c, _e, cb) { this.parts.push(Buffer.from(c)); cb(); }
  get buf() { return Buffer.concat(this.parts); }
}

/** Splits `buf` into random pieces (some empty, some single bytes). */
function split(buf, r) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const n = r.next() < 0.2 ? r.int(3) : 1 + r.int(Math.max(1, Math.min(buf.length - pos, r.pick([8, 64, 4096]))));
    out.push(buf.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

/** Corruption: none (0), truncate, flip bytes, insert garbage, replace with garbage. */
function corrupt(buf, r) {
  const k = r.int(5);
  if (k === 0 || buf.length === 0) return { buf, intact: k === 0 };
  if (k === 1) return { buf: buf.subarray(0, r.int(buf.length)), intact: false };
  if (k === 2) { const b = Buffer.from(buf); for (let i = 0; i < 1 + r.int(4); i++) b[r.int(b.length)] = r.int(256); return { buf: b, intact: false }; }
  if (k === 3) { const at = r.int(buf.length + 1); return { buf: Buffer.concat([buf.subarray(0, at), r.bytes(1 + r.int(32)), buf.subarray(at)]), intact: false }; }
  return { buf: r.bytes(r.int(256)), intact: false };
}

function framedStream(r) {
  const frames = [];
  const out = { stdout: [], stderr: [] };
  const n = r.int(12);
  for (let i = 0; i < n; i++) {
    const type = r.pick([0, 1, 1, 2, 2]);
    const payload = r.bytes(r.pick([0, 1, 7, 100, 5000]));
    const h = Buffer.alloc(8); h[0] = type; h.writeUInt32BE(payload.length, 4);
    frames.push(h, payload);
    (type === 2 ? out.stderr : out.stdout).push(payload);
  }
  let systemError = false;
  if (r.next() < 0.1) {
    const msg = Buffer.from('boom: system error');
    const h = Buffer.alloc(8); h[0] = 3; h.writeUInt32BE(msg.length, 4);
    frames.push(h, msg); systemError = true;
  }
  return { buf: Buffer.concat(frames), stdout: Buffer.concat(out.stdout), stderr: Buffer.concat(out.stderr), systemError };
}

function withDeadline(p, ms) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(Object.assign(new Error(`hang: no result within ${ms} ms`), { hang: true })), ms); })]).finally(() => clearTimeout(t));
}

async function caseDemux(r) {
  const s = framedStream(r);
  const { buf, intact } = corrupt(s.buf, r);
  const chunks = split(buf, r);
  const so = [], se = [];
  let sys;
  // sync Demuxer
  let syncErr;
  try {
    const d = new Demuxer({ onStdout: (b) => { so.push(Buffer.from(b)); }, onStderr: (b) => { se.push(Buffer.from(b)); }, onSystemError: (m) => { sys = m; } });
    for (const c of chunks) d.write(c);
    d.end();
  } catch (err) { syncErr = err; }
  if (syncErr && !(syncErr instanceof SkiffError)) return { fail: `Demuxer threw a non-SkiffError: ${syncErr.stack}` };
  if (intact) {
    if (syncErr) return { fail: `Demuxer failed on an intact stream: ${syncErr.message}` };
    if (!Buffer.concat(so).equals(s.stdout) || !Buffer.concat(se).equals(s.stderr)) return { fail: 'Demuxer output differs from input' };
    if (s.systemError !== (sys !== undefined)) return { fail: 'Demuxer lost a system-error frame' };
  }
  // DemuxStream through pipeline
  const out = new Sink(), err = new Sink();
  let streamErr;
  try { await pipeline(Readable.from(chunks, { objectMode: false }), new DemuxStream(out, err)); } catch (e) { streamErr = e; }
  if (streamErr && !(streamErr instanceof SkiffError)) return { fail: `DemuxStream failed with a non-SkiffError: ${streamErr?.stack ?? streamErr}` };
  if (intact && !s.systemError) {
    if (streamErr) return { fail: `DemuxStream failed on an intact stream: ${streamErr.message}` };
    if (!out.buf.equals(s.stdout) || !err.buf.equals(s.stderr)) return { fail: 'DemuxStream output differs from input' };
  }
  if (intact && s.systemError && !(streamErr instanceof SkiffError && streamErr.kind === 'engine')) return { fail: 'DemuxStream did not turn a system-error frame into an engine error' };
  return { error: !!(syncErr || streamErr) };
}

async function caseJsonLines(r) {
  const values = [];
  const n = r.int(20);
  for (let i = 0; i < n; i++) {
    values.push(r.pick([
      () => ({ status: 'Downloading', id: 'abc' + i, progressDetail: { current: r.int(1e6), total: 1e6 }, progress: '[==>  ] ☃ é' }),
      () => ({ status: 'Pull complete', id: String(i) }),
      () => ({ aux: { ID: 'sha256:' + r.bytes(8).toString('hex') } }),
      () => 'string line',
      () => r.int(100),
    ])());
  }
  const errorLine = r.next() < 0.1;
  if (errorLine) values.push({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' });
  const text = values.map((v) => JSON.stringify(v) + (r.next() < 0.2 ? '\r\n' : '\n')).join('') + (r.next() < 0.1 ? '\n\n  \n' : '');
  const { buf, intact } = corrupt(Buffer.from(text), r);
  const chunks = split(buf, r);
  const asString = r.next() < 0.2;
  const maxLineBytes = r.next() < 0.1 ? 1 + r.int(80) : undefined;
  const got = [];
  let error;
  try {
    for await (const v of readJsonLines((async function* () { for (const c of chunks) yield asString ? c.toString('utf8') : c; })(), { maxLineBytes })) got.push(v);
  } catch (e) { error = e; }
  if (error && !(error instanceof SkiffError)) return { fail: `readJsonLines threw a non-SkiffError: ${error?.stack ?? error}` };
  if (intact && maxLineBytes === undefined && !asString) {
    const expect = errorLine ? values.slice(0, -1) : values;
    if (JSON.stringify(got) !== JSON.stringify(expect)) return { fail: 'readJsonLines output differs from input' };
    if (errorLine !== (error instanceof SkiffError && error.kind === 'engine')) return { fail: `readJsonLines error line handling: ${error?.message}` };
  }
  return { error: !!error };
}

// --- hijack against a local server -------------------------------------------------------------
const HIJACK_ANSWERS = [
  'random', 'truncated101', 'garbageHeader', 'ok101thenRandom', 'ok101thenClose', 'error404json', 'error500text',
  'ok200', 'closeAtOnce', 'halfHeaders', 'badStatusLine', 'hugeHeader', 'chunkedError', 'ok101slow',
];

function startServer(r) {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-fuzz-hijack-'));
  const socketPath = join(dir, 's.sock');
  let plan = 'random';
  const server = createServer((sock) => {
    sock.on('error', () => {});
    let seen = Buffer.alloc(0);
    let answered = false;
    sock.on('data', (d) => {
      seen = Buffer.concat([seen, d]);
      if (answered || !seen.includes('\r\n\r\n')) return;
      answered = true;
      const p = plan;
      const send = (parts) => { for (const x of parts) sock.write(x); };
      const up = 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n';
      switch (p) {
        case 'random': send([r.bytes(r.int(512))]); sock.end(); break;
        case 'truncated101': send([up.slice(0, r.int(up.length))]); sock.end(); break;
        case 'garbageHeader': send(['HTTP/1.1 101 UPGRADED\r\n', r.bytes(64), '\r\n\r\n']); sock.end(); break;
        case 'ok101thenRandom': send([up, r.bytes(r.int(2048))]); sock.end(); break;
        case 'ok101thenClose': send([up]); sock.destroy(); break;
        case 'error404json': { const b = '{"message":"No such container: x"}'; send([`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n${b}`]); break; }
        case 'error500text': { const b = 'oops'; send([`HTTP/1.1 500 Internal Server Error\r\nContent-Length: ${b.length + r.int(10)}\r\n\r\n${b}`]); sock.end(); break; }
        case 'ok200': send(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi']); break;
        case 'closeAtOnce': sock.destroy(); break;
        case 'halfHeaders': send(['HTTP/1.1 101 UPGRADED\r\nUpgr']); sock.end(); break;
        case 'badStatusLine': send([`HTTP/1.1 ${r.int(1000)} ${r.bytes(5).toString('hex')}\r\n\r\n`]); sock.end(); break;
        case 'hugeHeader': send(['HTTP/1.1 101 UPGRADED\r\nX: ' + 'a'.repeat(20000 + r.int(80000)) + '\r\n\r\n']); sock.end(); break;
        case 'chunkedError': send(['HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel']); sock.end(); break;
        case 'ok101slow': send([up]); setTimeout(() => { sock.write(r.bytes(16)); sock.end(); }, r.int(20)); break;
      }
    });
  });
  return new Promise((resolve) => server.listen(socketPath, () => resolve({
    setPlan: (p) => { plan = p; },
    socketPath,
    close: () => new Promise((res) => { server.close(() => res()); setTimeout(res, 200); rmSync(dir, { recursive: true, force: true }); }),
  })));
}

async function caseHijack(r, server, pools) {
  const plan = r.pick(HIJACK_ANSWERS);
  server.setPlan(plan);
  const mode = r.int(3); // 0: bare hijack(), 1: Transport.hijack, 2: a borrowed connection
  const raw = mode === 0;
  const pool = pools.next();
  let socket;
  if (mode === 2) {
    try {
      const stream = await openBorrowed(pools.transport.target, { path: '/v1.41/containers/x/attach?stream=1&stdout=1', what: 'attach to container', timeoutMs: 2000 });
      // Anything but a 101 is left to the dispatcher's path, fuzzed above.
      if (!stream) return { error: true, plan };
      socket = stream.socket;
      try { await pumpOutput(stream, r.next() < 0.2, new Sink(), new Sink()); } catch (e) {
        if (!(e instanceof SkiffError) && e?.code !== 'ECONNRESET') return { fail: `pumping a borrowed stream failed with a non-SkiffError (${plan}): ${e?.stack ?? e}` };
      }
      return { error: false, plan };
    } catch (e) {
      return e instanceof SkiffError ? { error: true, plan } : { fail: `openBorrowed rejected with a non-SkiffError (${plan}): ${e?.stack ?? e}` };
    } finally {
      socket?.destroy();
    }
  }
  try {
    const options = { path: '/v1.41/containers/x/attach?stream=1&stdout=1', contentType: 'text/plain', what: 'attach to container' };
    const h = raw
      ? await hijack(pool, options)
      : await pools.transport.hijack({ method: 'POST', path: '/containers/x/attach', what: 'attach to container' });
    socket = h.socket;
    // Read what follows the 101 through a DemuxStream, as the executors do.
    const out = new Sink(), err = new Sink();
    try { await pipeline(socket, new DemuxStream(out, err)); } catch (e) {
      if (!(e instanceof SkiffError) && !(e?.code === 'ECONNRESET' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE')) return { fail: `reading a hijacked socket failed with a non-SkiffError (${plan}): ${e?.stack ?? e}` };
    }
    return { error: false, plan };
  } catch (e) {
    if (e instanceof SkiffError) return { error: true, plan };
    // The bare hijack() hands undici's own errors on; Transport.hijack maps them. Count, don't fail.
    if (raw) return { error: true, plan, rawUndici: `${e?.code ?? e?.name}: ${e?.message}` };
    return { fail: `Transport.hijack rejected with a non-SkiffError (${plan}): ${e?.stack ?? e}` };
  } finally {
    socket?.destroy();
  }
}

export async function fuzzStreams({ cases, seed, caseMs = 5000, log = () => {} }) {
  const r = rng(seed);
  const server = await startServer(rng(seed ^ 0x5eed));
  const poolList = [];
  const mkPool = () => { const p = new Pool('http://localhost', { socketPath: server.socketPath, connections: 4, pipelining: 0 }); poolList.push(p); return p; };
  const transportPool = mkPool();
  const pools = {
    transport: new Transport(transportPool, { kind: 'unix', socketPath: server.socketPath, url: `unix://${server.socketPath}` }, { apiVersion: '1.41' }),
    next: () => poolList[poolList.length - 1],
  };
  mkPool();
  const counts = { demux: 0, jsonLines: 0, hijack: 0, errors: 0, failures: 0, hangs: 0 };
  const rawUndici = new Map();
  const failures = [];
  const started = Date.now();
  for (let i = 0; i < cases; i++) {
    const which = i % 3;
    let res;
    try {
      res = await withDeadline(which === 0 ? caseDemux(r) : which === 1 ? caseJsonLines(r) : caseHijack(r, server, pools), caseMs);
    } catch (e) {
      res = e?.hang ? { fail: e.message, hang: true } : { fail: `escaped: ${e?.stack ?? e}` };
    }
    counts[['demux', 'jsonLines', 'hijack'][which]]++;
    if (res.error) counts.errors++;
    if (res.rawUndici) rawUndici.set(res.rawUndici, (rawUndici.get(res.rawUndici) ?? 0) + 1);
    if (res.fail) {
      counts.failures++;
      if (res.hang) counts.hangs++;
      failures.push({ i, kind: ['demux', 'jsonLines', 'hijack'][which], reason: res.fail });
    }
    if (i % 1000 === 999) log(`  ${i + 1} cases, ${counts.failures} failures`);
  }
  await Promise.all(poolList.map((p) => p.destroy().catch(() => {})));
  await server.close();
  return { counts, failures, rawUndici, ms: Date.now() - started };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = parseArgs(process.argv.slice(2), { cases: 10000, seed: Math.floor(Math.random() * 2 ** 31), caseMs: 5000 });
  console.error(`fuzz-streams: seed ${args.seed} (reproduce with --seed ${args.seed})`);
  const res = await fuzzStreams({ ...args, log: (s) => console.error(s) });
  for (const f of res.failures.slice(0, 5)) console.error(`--- case ${f.i} (${f.kind}): ${f.reason}`);
  if (res.rawUndici.size > 0) console.error(`bare hijack() passed undici errors on (Transport.hijack maps them): ${[...res.rawUndici].map(([k, v]) => `${k} ×${v}`).join('; ')}`);
  const c = res.counts;
  const ok = c.failures === 0;
  console.log(`fuzz-streams: seed=${args.seed} cases=${c.demux + c.jsonLines + c.hijack} demux=${c.demux} json-lines=${c.jsonLines} hijack=${c.hijack} errors=${c.errors} failures=${c.failures} hangs=${c.hangs} time=${(res.ms / 1000).toFixed(1)}s ${ok ? 'OK' : 'FAIL'}`);
  process.exit(ok ? 0 : 1);
}
