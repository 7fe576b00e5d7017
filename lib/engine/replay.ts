// Replay: a Dispatcher that serves a recording (record.ts describes the format) with no daemon
// at all. Each request the client makes is matched to the first recorded exchange not used yet
// with the same method, path, query, body, upgrade and auth presence (recorded order among
// equals, so concurrent requests need not come in recorded order); the matched exchange is
// served as recorded: status and headers, body chunks one by one, errors, and hijacked sessions
// through a Duplex that delivers the daemon's bytes in their recorded order relative to the
// client's input and half-close. Order also holds across exchanges: what the daemon sent after
// the client's n-th request goes out once the client has made the requests recorded before it
// (the wait's exit code after the start and the kills that caused it), with a timeout
// (`orderTimeoutMs`) so a run that skips a request slows down instead of hanging.
//
// Volatile values are normalised consistently rather than ignored:
// - ids the recording handed out (64-hex container, exec and image ids) are served as recorded,
//   and a later request must mention the same id where the recording does;
// - values the client makes up (the run id `20261123T085501Z-1a2b3c4d`, the labels
//   dev.skiff.run / dev.skiff.pid / dev.skiff.host, temp directories `/tmp/<name>`) are learned
//   from the first request that carries them, held to that from then on (one live value for one
//   recorded value, both ways), and mapped back in response bodies (an inspect's labels, Binds);
// - timestamps (RFC 3339 in bodies, `since`/`until` in queries) match any timestamp;
// - `<redacted>` in a recorded request matches whatever secret the live request carries there.
// What is not normalised: 12-hex short ids, bytes in hijacked sessions (stdin must match
// exactly; the daemon's bytes are served as recorded, with no mapping back), streamed request
// bodies (compared byte for byte as they pass), and anything else the client chooses (image
// names, commands, env): a change there is a different request.
//
// A request with no match fails alone, with one SkiffError('replay') that names the request made
// and the one expected (the next unused of the same kind, else the next in order) and where they
// differ. `unused()` / `assertAllUsed()` report what the run never asked for; `made` lists every
// request the run made, `misses` every replay error given out.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { DispatcherBase, errors } from './undici.js';
import { SkiffError } from './errors.js';
import {
  RECORDING_FILE,
  REDACTED,
  controllerHandler,
  decodeData,
  headerObject,
  parseRecording,
  type RecordedEvent,
  type RecordedHeaders,
  type Recording,
  type RequestEvent,
} from './recording-format.js';

export interface ReplayOptions {
  /** Deliver each response chunk and hijacked chunk in its own turn of the event loop (default true). */
  splitChunks?: boolean;
  /**
   * Keep the recorded order across exchanges (default true): what the daemon sent after the
   * client's n-th request is delivered only once the client has made the requests recorded
   * before it (a wait's exit code after the start and the kills that caused it).
   */
  ordered?: boolean;
  /**
   * How long a delivery waits for an earlier recorded request that the run does not make
   * before going on without it (default 5000 ms); that exchange then shows in `unused()`.
   */
  orderTimeoutMs?: number;
}

type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'bytes'; bytes: Buffer } | { kind: 'stream' };

interface Shape {
  method: string;
  /** As sent, for messages. */
  rawPath: string;
  pathname: string;
  query: Array<[string, string]>;
  upgrade: boolean;
  auth: boolean;
  body: Body;
}

interface RecordedExchange {
  n: number;
  /** Line position of the request in the recording. */
  pos: number;
  request: RequestEvent;
  shape: Shape;
  /** Everything after the request line, except the streamed request body. */
  events: RecordedEvent[];
  /** Line position of each of `events`. */
  positions: number[];
  bodyChunks: Buffer[];
  used: boolean;
}

/** One learned correspondence: this live value stands for that recorded value. */
interface SlotPair {
  cls: string;
  live: string;
  recorded: string;
  where: string;
}

interface Difference {
  where: string;
  made: string;
  recorded: string;
}

export class ReplayDispatcher extends DispatcherBase {
  readonly source: string;
  /** Every request made, in order, as `METHOD path` (to assert on paths and versions). */
  readonly made: string[] = [];
  /** The replay errors given to the client, in order. */
  readonly misses: SkiffError[] = [];
  readonly #exchanges: RecordedExchange[];
  readonly #session: Session;
  readonly #players = new Set<ExchangePlayer>();
  #closed = false;
  #destroyed = false;

  /** Reads `DIR/engine.jsonl` (what a RecordingDispatcher for DIR wrote). */
  static fromDir(dir: string, options?: ReplayOptions): ReplayDispatcher {
    return ReplayDispatcher.fromFile(join(dir, RECORDING_FILE), options);
  }

  static fromFile(file: string, options?: ReplayOptions): ReplayDispatcher {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SkiffError('usage', `cannot read the engine recording ${file}: ${(err as Error).message}`, { cause: err, hint: 'record one first with --record DIR' });
    }
    return new ReplayDispatcher(parseRecording(text, file), options);
  }

  constructor(recording: Recording | string, options: ReplayOptions = {}) {
    super();
    const parsed = typeof recording === 'string' ? parseRecording(recording) : recording;
    this.source = parsed.source;
    this.#exchanges = groupExchanges(parsed);
    this.#session = {
      maps: new Mapping(),
      split: options.splitChunks ?? true,
      order: new Orderer(this.#exchanges.map((ex) => ex.pos), options.ordered ?? true, options.orderTimeoutMs ?? 5000),
    };
  }

  /** The recorded exchanges the run did not ask for, described one per entry. */
  unused(): string[] {
    return this.#exchanges.filter((ex) => !ex.used).map((ex) => `#${ex.n} ${describe(ex.shape)}`);
  }

  assertAllUsed(): void {
    const left = this.unused();
    if (left.length === 0) return;
    throw new SkiffError('replay', `replay: ${left.length} recorded exchange${left.length === 1 ? ' was' : 's were'} not used (${this.source}): ${left.join('; ')}`, {
      hint: 'the run asked for less than was recorded; record it again or remove those exchanges',
    });
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const target = controllerHandler(handler);
    if (this.#destroyed || this.#closed) {
      const err = this.#destroyed ? new errors.ClientDestroyedError() : new errors.ClientClosedError();
      target.onResponseError?.(new ReplayController(() => undefined, () => undefined), err);
      return false;
    }
    const live = liveShape(options);
    this.made.push(`${live.method} ${live.rawPath}`);
    const chosen = this.#match(live);
    if (chosen instanceof SkiffError) {
      this.misses.push(chosen);
      const controller = new ReplayController(() => undefined, () => undefined);
      target.onRequestStart?.(controller, {});
      queueMicrotask(() => target.onResponseError?.(controller, chosen));
      drain(options.body);
      return true;
    }
    const player = new ExchangePlayer(chosen, target, options.body, this.#session, () => this.#players.delete(player));
    this.#players.add(player);
    player.start();
    return true;
  }

  #match(live: Shape): RecordedExchange | SkiffError {
    for (const ex of this.#exchanges) {
      if (ex.used) continue;
      const pairs: SlotPair[] = [];
      if (compareShapes(live, ex.shape, pairs)) continue;
      if (this.#session.maps.conflict(pairs)) continue;
      this.#session.maps.commit(pairs);
      ex.used = true;
      this.#session.order.made(ex.pos);
      return ex;
    }
    return this.#miss(live);
  }

  #miss(live: Shape): SkiffError {
    const unused = this.#exchanges.filter((ex) => !ex.used);
    const made = describe(live);
    if (unused.length === 0) {
      return new SkiffError('replay', `replay: no recorded exchange for ${made}; all ${this.#exchanges.length} recorded exchanges have been used (${this.source})`, {
        hint: 'the run asked for more than was recorded; record it again',
      });
    }
    const kind = kindOf(live);
    const expected = unused.find((ex) => kindOf(ex.shape) === kind) ?? unused.find((ex) => ex.shape.method === live.method) ?? unused[0]!;
    const pairs: SlotPair[] = [];
    const diff = compareShapes(live, expected.shape, pairs);
    const d = diff ?? this.#session.maps.conflict(pairs);
    const why = d ? `differs at ${d.where}: made ${d.made}, recorded ${d.recorded}` : 'differs';
    // The client made this request in the expected one's place: what was recorded after it need
    // not wait for it (the expected exchange stays unused and is reported as such).
    this.#session.order.made(expected.pos);
    return new SkiffError('replay', `replay: no recorded exchange for ${made}; next recorded: #${expected.n} ${describe(expected.shape)} (${why}) (${this.source})`, {
      hint: 'the run differs from the recording; record it again if the change is intended',
    });
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    this.#closed = true;
    if (callback) {
      queueMicrotask(callback);
      return;
    }
    return Promise.resolve();
  }

  override destroy(err: Error | null, callback: () => void): void;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null): Promise<void>;
  override destroy(): Promise<void>;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const callback = typeof a === 'function' ? a : b;
    const err = (typeof a === 'function' ? null : a) ?? new errors.ClientDestroyedError();
    this.#destroyed = true;
    this.#closed = true;
    for (const p of this.#players) p.destroy(err);
    this.#session.order.stop();
    if (callback) {
      queueMicrotask(callback);
      return;
    }
    return Promise.resolve();
  }
}

// ---------------------------------------------------------------------------------------------
// Loading

function groupExchanges(recording: Recording): RecordedExchange[] {
  const byN = new Map<number, RecordedExchange>();
  const list: RecordedExchange[] = [];
  for (const [pos, event] of recording.events.entries()) {
    if (event.ev === 'request') {
      if (byN.has(event.n)) throw new SkiffError('protocol', `${recording.source}: exchange ${event.n} has two requests`);
      const ex: RecordedExchange = { n: event.n, pos, request: event, shape: recordedShape(event), events: [], positions: [], bodyChunks: [], used: false };
      byN.set(event.n, ex);
      list.push(ex);
      continue;
    }
    const ex = byN.get(event.n);
    if (!ex) throw new SkiffError('protocol', `${recording.source}: a "${event.ev}" event for exchange ${event.n} before its request`);
    if (event.ev === 'body') ex.bodyChunks.push(decodeData(event.data));
    else if (event.ev !== 'body-end') {
      ex.events.push(event);
      ex.positions.push(pos);
    }
  }
  return list;
}

// ---------------------------------------------------------------------------------------------
// Shapes and matching

function splitPath(raw: string): { pathname: string; query: Array<[string, string]> } {
  const q = raw.indexOf('?');
  const pathname = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? [] : [...new URLSearchParams(raw.slice(q + 1))];
  let decoded = pathname;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    // keep it as sent
  }
  return { pathname: decoded, query };
}

function recordedShape(ev: RequestEvent): Shape {
  const { pathname, query } = splitPath(ev.path);
  const body: Body = ev.stream ? { kind: 'stream' } : ev.json !== undefined ? { kind: 'json', value: ev.json } : ev.body !== undefined ? { kind: 'bytes', bytes: decodeData(ev.body) } : { kind: 'none' };
  return {
    method: ev.method.toUpperCase(),
    rawPath: ev.path,
    pathname,
    query,
    upgrade: ev.upgrade !== undefined,
    auth: ev.headers?.['x-registry-auth'] !== undefined,
    body,
  };
}

function liveShape(options: Dispatcher.DispatchOptions): Shape {
  const rawPath = String(options.path);
  const { pathname, query } = splitPath(rawPath);
  const headers = headerObject(options.headers);
  const contentType = String(headers['content-type'] ?? '');
  const raw = options.body;
  let body: Body = { kind: 'none' };
  if (typeof raw === 'string' || raw instanceof Uint8Array) {
    const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    body = { kind: 'bytes', bytes: buf };
    if (contentType.includes('json') && buf.length > 0) {
      try {
        body = { kind: 'json', value: JSON.parse(buf.toString('utf8')) };
      } catch {
        // labelled JSON but not JSON, as the recorder keeps it
      }
    }
  } else if (raw !== undefined && raw !== null && (raw instanceof Readable || typeof (raw as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (raw as unknown as Iterable<unknown>)[Symbol.iterator] === 'function')) {
    body = { kind: 'stream' };
  }
  return {
    method: String(options.method).toUpperCase(),
    rawPath,
    pathname,
    query,
    upgrade: Boolean(options.upgrade),
    auth: headers['x-registry-auth'] !== undefined,
    body,
  };
}

const TIME_PARAMS = new Set(['since', 'until']);
const LABEL_KEY = /^dev\.skiff\.(run|pid|host)$/;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

// The temp roots whose first-level entries are per-run names (mkdtemp).
const TMP_ROOTS = [...new Set(['/tmp', '/var/tmp', tmpdir().replace(/\/+$/, '')])].filter((r) => r !== '');
const SLOT_RE = new RegExp(
  [
    String.raw`dev\.skiff\.(?<lk>run|pid|host)=(?<lv>[^\s"'&,;]+)`,
    String.raw`(?<run>\b\d{8}T\d{6}Z-[0-9a-f]{8}\b)`,
    String.raw`(?<id>\b[0-9a-f]{64}\b)`,
    String.raw`(?<tmp>(?:${TMP_ROOTS.map(escapeRegExp).join('|')})/[^/\s"':,;=]+)`,
    String.raw`(?<time>\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))`,
  ].join('|'),
  'g',
);

interface Token {
  cls: string;
  value: string;
}

/** Splits a string into fixed text and volatile slots. */
function tokenize(s: string): { fixed: string[]; slots: Token[] } {
  const fixed: string[] = [];
  const slots: Token[] = [];
  let from = 0;
  for (const m of s.matchAll(SLOT_RE)) {
    const g = m.groups!;
    let start = m.index!;
    let value = m[0];
    let cls: string;
    if (g.lv !== undefined) {
      cls = `label:${g.lk}`;
      value = g.lv;
      start = m.index! + m[0].length - value.length;
    } else if (g.run !== undefined) cls = 'run';
    else if (g.id !== undefined) cls = 'id';
    else if (g.tmp !== undefined) cls = 'tmp';
    else cls = 'time';
    fixed.push(s.slice(from, start));
    slots.push({ cls, value });
    from = start + value.length;
  }
  fixed.push(s.slice(from));
  return { fixed, slots };
}

/** Fixed text equal, except that a recorded `<redacted>` stands for any non-empty text. */
function sameFixed(live: string, recorded: string): boolean {
  if (live === recorded) return true;
  if (!recorded.includes(REDACTED)) return false;
  const re = new RegExp(`^${recorded.split(REDACTED).map(escapeRegExp).join('[\\s\\S]+?')}$`);
  return re.test(live);
}

function compareString(live: string, recorded: string, where: string, pairs: SlotPair[]): Difference | undefined {
  const l = tokenize(live);
  const r = tokenize(recorded);
  const differ = () => ({ where, made: JSON.stringify(live), recorded: JSON.stringify(recorded) });
  if (l.slots.length !== r.slots.length) return differ();
  for (let i = 0; i < l.fixed.length; i++) if (!sameFixed(l.fixed[i]!, r.fixed[i]!)) return differ();
  for (let i = 0; i < l.slots.length; i++) {
    const a = l.slots[i]!;
    const b = r.slots[i]!;
    if (a.cls !== b.cls) return differ();
    if (a.cls !== 'time') pairs.push({ cls: a.cls, live: a.value, recorded: b.value, where });
  }
  return undefined;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function compareJson(live: unknown, recorded: unknown, where: string, pairs: SlotPair[]): Difference | undefined {
  const differ = () => ({ where, made: show(live), recorded: show(recorded) });
  if (typeof live === 'string' && typeof recorded === 'string') return compareString(live, recorded, where, pairs);
  if (Array.isArray(live) || Array.isArray(recorded)) {
    if (!Array.isArray(live) || !Array.isArray(recorded) || live.length !== recorded.length) return differ();
    for (let i = 0; i < live.length; i++) {
      const d = compareJson(live[i], recorded[i], `${where}[${i}]`, pairs);
      if (d) return d;
    }
    return undefined;
  }
  if (live !== null && recorded !== null && typeof live === 'object' && typeof recorded === 'object') {
    const lo = live as Record<string, unknown>;
    const ro = recorded as Record<string, unknown>;
    // Keys in any order. Keys that are not the same text (a temp dir as a Volumes key) are
    // paired in the order they come and compared with their volatile parts.
    const lk = Object.keys(lo);
    const rk = Object.keys(ro);
    const onlyLive = lk.filter((k) => !Object.hasOwn(ro, k));
    const onlyRecorded = rk.filter((k) => !Object.hasOwn(lo, k));
    if (onlyLive.length !== onlyRecorded.length) {
      const extra = onlyLive.length > onlyRecorded.length ? `an extra key ${JSON.stringify(onlyLive[0])}` : `no key ${JSON.stringify(onlyRecorded[0])}`;
      return { where, made: extra, recorded: show(recorded) };
    }
    const entries: Array<[string, string]> = lk.filter((k) => Object.hasOwn(ro, k)).map((k) => [k, k]);
    for (let i = 0; i < onlyLive.length; i++) {
      const a = onlyLive[i]!;
      const b = onlyRecorded[i]!;
      if (compareString(a, b, `${where} key`, pairs)) return { where: `${where}.${a}`, made: `key ${JSON.stringify(a)}`, recorded: `key ${JSON.stringify(b)}` };
      entries.push([a, b]);
    }
    for (const [a, b] of entries) {
      const lv = lo[a];
      const rv = ro[b];
      const label = LABEL_KEY.exec(a);
      if (label && a === b && typeof lv === 'string' && typeof rv === 'string') {
        pairs.push({ cls: `label:${label[1]}`, live: lv, recorded: rv, where: `${where}.${a}` });
        continue;
      }
      const d = compareJson(lv, rv, `${where}.${a}`, pairs);
      if (d) return d;
    }
    return undefined;
  }
  return live === recorded ? undefined : differ();
}

function compareShapes(live: Shape, rec: Shape, pairs: SlotPair[]): Difference | undefined {
  if (live.method !== rec.method) return { where: 'method', made: live.method, recorded: rec.method };
  const p = compareString(live.pathname, rec.pathname, 'path', pairs);
  if (p) return p;
  if (live.query.length !== rec.query.length || live.query.some(([k], i) => k !== rec.query[i]![0])) {
    return { where: 'query', made: JSON.stringify(live.query.map(([k]) => k).join('&')), recorded: JSON.stringify(rec.query.map(([k]) => k).join('&')) };
  }
  for (let i = 0; i < live.query.length; i++) {
    const [key, lv] = live.query[i]!;
    const rv = rec.query[i]![1];
    if (TIME_PARAMS.has(key)) continue;
    const where = `query ${key}`;
    const lj = jsonOrUndefined(lv);
    const rj = jsonOrUndefined(rv);
    const d = lj !== undefined && rj !== undefined ? compareJson(lj, rj, where, pairs) : compareString(lv, rv, where, pairs);
    if (d) return d;
  }
  if (live.upgrade !== rec.upgrade) return { where: 'upgrade', made: String(live.upgrade), recorded: String(rec.upgrade) };
  if (live.auth !== rec.auth) return { where: 'X-Registry-Auth', made: live.auth ? 'present' : 'absent', recorded: rec.auth ? 'present' : 'absent' };
  const lb = live.body;
  const rb = rec.body;
  if (lb.kind !== rb.kind) return { where: 'body', made: bodyText(lb), recorded: bodyText(rb) };
  if (lb.kind === 'json' && rb.kind === 'json') return compareJson(lb.value, rb.value, 'body', pairs);
  if (lb.kind === 'bytes' && rb.kind === 'bytes' && !lb.bytes.equals(rb.bytes)) {
    if (isTextual(lb.bytes) && isTextual(rb.bytes)) return compareString(lb.bytes.toString('utf8'), rb.bytes.toString('utf8'), 'body', pairs);
    return { where: 'body', made: bodyText(lb), recorded: bodyText(rb) };
  }
  return undefined;
}

function isTextual(buf: Buffer): boolean {
  return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
}

function jsonOrUndefined(s: string): unknown {
  if (!/^\s*[[{]/.test(s)) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function bodyText(body: Body): string {
  switch (body.kind) {
    case 'none':
      return 'no body';
    case 'stream':
      return 'a streamed body';
    case 'json':
      return show(body.value);
    case 'bytes':
      return isTextual(body.bytes) ? show(body.bytes.toString('utf8')) : `${body.bytes.length} bytes`;
  }
}

/** `POST /v1.41/containers/<id>/start`: what a request is, with its volatile parts hidden. */
function kindOf(shape: Shape): string {
  const t = tokenize(shape.pathname);
  let out = t.fixed[0]!;
  for (let i = 0; i < t.slots.length; i++) out += `<${t.slots[i]!.cls}>${t.fixed[i + 1]!}`;
  return `${shape.method} ${out}${shape.upgrade ? ' upgrade' : ''}`;
}

const SHOWN_BODY = 120;

function describe(shape: Shape): string {
  let body = '';
  if (shape.body.kind === 'json') {
    const text = JSON.stringify(shape.body.value);
    body = ` ${text.length > SHOWN_BODY ? `${text.slice(0, SHOWN_BODY)}…` : text}`;
  } else if (shape.body.kind !== 'none') body = ` (${bodyText(shape.body)})`;
  return `${shape.method} ${shape.rawPath}${shape.upgrade ? ' [upgrade]' : ''}${body}`;
}

const CLASS_NAMES: Record<string, string> = { id: 'id', run: 'run id', tmp: 'temp path', label: 'label value' };

/** Live ↔ recorded values per class, one to one. */
class Mapping {
  readonly #l2r = new Map<string, Map<string, string>>();
  readonly #r2l = new Map<string, Map<string, string>>();

  #maps(cls: string): [Map<string, string>, Map<string, string>] {
    let a = this.#l2r.get(cls);
    let b = this.#r2l.get(cls);
    if (!a || !b) {
      a = new Map();
      b = new Map();
      this.#l2r.set(cls, a);
      this.#r2l.set(cls, b);
    }
    return [a, b];
  }

  /** The first pair that contradicts what is known (or another pair of the same request), said in words. */
  conflict(pairs: SlotPair[]): Difference | undefined {
    const l2r = new Map<string, string>();
    const r2l = new Map<string, string>();
    for (const p of pairs) {
      const [known, back] = this.#maps(p.cls);
      const key = (v: string) => `${p.cls}\0${v}`;
      const what = CLASS_NAMES[p.cls.startsWith('label:') ? 'label' : p.cls] ?? p.cls;
      const r = known.get(p.live) ?? l2r.get(key(p.live));
      if (r !== undefined && r !== p.recorded) {
        return { where: p.where, made: `${what} ${JSON.stringify(p.live)}`, recorded: `${JSON.stringify(p.recorded)} (this replay already stands ${JSON.stringify(p.live)} for the recorded ${JSON.stringify(r)})` };
      }
      const l = back.get(p.recorded) ?? r2l.get(key(p.recorded));
      if (l !== undefined && l !== p.live) {
        const handedOut = l === p.recorded ? 'the recording handed it out as is' : `this replay already stands ${JSON.stringify(l)} for it`;
        return { where: p.where, made: `${what} ${JSON.stringify(p.live)}`, recorded: `${JSON.stringify(p.recorded)} (${handedOut})` };
      }
      l2r.set(key(p.live), p.recorded);
      r2l.set(key(p.recorded), p.live);
    }
    return undefined;
  }

  commit(pairs: SlotPair[]): void {
    for (const p of pairs) this.learn(p.cls, p.live, p.recorded);
  }

  learn(cls: string, live: string, recorded: string): void {
    const [a, b] = this.#maps(cls);
    if (!a.has(live) && !b.has(recorded)) {
      a.set(live, recorded);
      b.set(recorded, live);
    }
  }

  liveFor(cls: string, recorded: string): string | undefined {
    return this.#r2l.get(cls)?.get(recorded);
  }
}

// Response bodies: recorded client-made values become the live ones; ids the daemon handed out
// are fixed as themselves, so a request that names another id does not match.
const RESPONSE_LABEL_JSON = /"dev\.skiff\.(run|pid|host)":"([^"\\]*)"/g;

function rewriteResponse(chunk: Buffer, maps: Mapping): Buffer {
  if (!isTextual(chunk)) return chunk;
  const text = chunk.toString('utf8');
  for (const m of text.matchAll(/\b[0-9a-f]{64}\b/g)) maps.learn('id', m[0], m[0]);
  let out = text.replace(RESPONSE_LABEL_JSON, (all, key: string, value: string) => {
    const live = maps.liveFor(`label:${key}`, value);
    return live === undefined ? all : `"dev.skiff.${key}":${JSON.stringify(live)}`;
  });
  out = out.replace(SLOT_RE, (all: string, ...args: unknown[]) => {
    const g = args[args.length - 1] as Record<string, string | undefined>;
    if (g.lv !== undefined) {
      const live = maps.liveFor(`label:${g.lk}`, g.lv);
      return live === undefined ? all : `${all.slice(0, all.length - g.lv.length)}${live}`;
    }
    const cls = g.run !== undefined ? 'run' : g.tmp !== undefined ? 'tmp' : undefined;
    if (!cls) return all;
    return maps.liveFor(cls, all) ?? all;
  });
  return out === text ? chunk : Buffer.from(out, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Order across exchanges

interface Session {
  maps: Mapping;
  split: boolean;
  order: Orderer;
}

/**
 * Happens-before from the recording: an event recorded after a request is delivered once that
 * request has been made. The client made each recorded request knowing only what came before
 * it, so a deterministic client never waits on itself; a request the run never makes is given
 * up after a timeout rather than hanging the run.
 */
class Orderer {
  readonly #requests: number[];
  readonly #enabled: boolean;
  readonly #timeoutMs: number;
  readonly #made = new Set<number>();
  #first = 0;
  readonly #waiters = new Set<{ pos: number; go: () => void }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(requestPositions: number[], enabled: boolean, timeoutMs: number) {
    this.#requests = [...requestPositions].sort((a, b) => a - b);
    this.#enabled = enabled;
    this.#timeoutMs = timeoutMs;
  }

  made(pos: number): void {
    this.#made.add(pos);
    this.#advance();
  }

  /** True when every request recorded before `pos` has been made. */
  ready(pos: number): boolean {
    return !this.#enabled || (this.#requests[this.#first] ?? Infinity) > pos;
  }

  /** Calls `go` once `ready(pos)`; returns a function that cancels the wait. */
  wait(pos: number, go: () => void): () => void {
    const waiter = { pos, go };
    this.#waiters.add(waiter);
    this.#arm();
    return () => {
      this.#waiters.delete(waiter);
      if (this.#waiters.size === 0) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#waiters.clear();
  }

  #advance(): void {
    const before = this.#first;
    while (this.#first < this.#requests.length && this.#made.has(this.#requests[this.#first]!)) this.#first++;
    if (this.#first === before) return;
    for (const w of [...this.#waiters]) {
      if (this.ready(w.pos)) {
        this.#waiters.delete(w);
        w.go();
      }
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#arm();
  }

  #arm(): void {
    if (this.#timer || this.#waiters.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // Go on without the requests that hold back the earliest waiting delivery.
      const earliest = Math.min(...[...this.#waiters].map((w) => w.pos));
      for (const pos of this.#requests) if (pos < earliest) this.#made.add(pos);
      this.#advance();
    }, this.#timeoutMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Serving one exchange

class ReplayController implements Dispatcher.DispatchController {
  #paused = false;
  #aborted = false;
  #reason: Error | null = null;
  readonly #onResume: () => void;
  readonly #onAbort: (reason: Error) => void;

  constructor(onResume: () => void, onAbort: (reason: Error) => void) {
    this.#onResume = onResume;
    this.#onAbort = onAbort;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason ?? new errors.RequestAbortedError();
    this.#onAbort(this.#reason);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#onResume();
  }
}

class ExchangePlayer {
  readonly #ex: RecordedExchange;
  readonly #target: Dispatcher.DispatchHandler;
  readonly #body: Dispatcher.DispatchOptions['body'];
  readonly #session: Session;
  readonly #onDone: () => void;
  readonly #controller: ReplayController;
  #i = 0;
  #ready = false;
  #finished = false;
  #scheduled = false;
  #socket: ReplaySocket | undefined;
  #cancelWait: (() => void) | undefined;

  constructor(ex: RecordedExchange, target: Dispatcher.DispatchHandler, body: Dispatcher.DispatchOptions['body'], session: Session, onDone: () => void) {
    this.#ex = ex;
    this.#target = target;
    this.#body = body;
    this.#session = session;
    this.#onDone = onDone;
    this.#controller = new ReplayController(
      () => this.#schedule(),
      (reason) => this.#fail(reason),
    );
  }

  start(): void {
    this.#target.onRequestStart?.(this.#controller, {});
    if (this.#finished) return;
    if (this.#ex.shape.body.kind === 'stream') {
      consumeBody(this.#body, this.#ex).then(
        () => {
          this.#ready = true;
          this.#schedule();
        },
        (err: Error) => this.#fail(err),
      );
    } else {
      this.#ready = true;
      this.#schedule();
    }
  }

  destroy(err: Error): void {
    this.#socket?.destroy(err);
    this.#fail(err);
  }

  #done(): void {
    this.#finished = true;
    this.#cancelWait?.();
    this.#onDone();
  }

  #fail(err: Error): void {
    if (this.#finished) return;
    this.#done();
    queueMicrotask(() => this.#target.onResponseError?.(this.#controller, err));
  }

  #schedule(): void {
    if (this.#scheduled || this.#finished || !this.#ready) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#step();
    });
  }

  #step(): void {
    while (!this.#finished && !this.#controller.paused && !this.#controller.aborted) {
      const ev = this.#ex.events[this.#i];
      const n = this.#ex.n;
      if (!ev) {
        this.#fail(new SkiffError('replay', `replay: the recording ends in the middle of exchange #${n} ${describe(this.#ex.shape)}`));
        return;
      }
      const pos = this.#ex.positions[this.#i]!;
      if (ev.ev !== 'aborted' && !this.#session.order.ready(pos)) {
        this.#cancelWait?.();
        this.#cancelWait = this.#session.order.wait(pos, () => this.#schedule());
        return;
      }
      this.#i++;
      switch (ev.ev) {
        case 'response':
          this.#target.onResponseStart?.(this.#controller, ev.status, responseHeaders(ev.headers), '');
          break;
        case 'data': {
          this.#target.onResponseData?.(this.#controller, rewriteResponse(decodeData(ev.data), this.#session.maps));
          if (this.#session.split) {
            this.#schedule();
            return;
          }
          break;
        }
        case 'end':
          this.#done();
          this.#target.onResponseEnd?.(this.#controller, {});
          return;
        case 'error':
          this.#fail(recordedError(ev.message, ev.code, ev.name));
          return;
        case 'aborted':
          // The client gave up here when it was recorded; it will again, and then #fail runs.
          return;
        case 'upgrade': {
          this.#done();
          this.#socket = new ReplaySocket(this.#ex, this.#i, this.#session);
          this.#target.onRequestUpgrade?.(this.#controller, ev.status, responseHeaders(ev.headers), this.#socket);
          return;
        }
        default:
          this.#fail(new SkiffError('protocol', `replay: exchange #${n} has a "${ev.ev}" event outside a hijacked session`));
          return;
      }
    }
  }
}

function responseHeaders(headers: RecordedHeaders | undefined): Record<string, string | string[]> {
  return { ...headers };
}

function recordedError(message: string, code?: string, name?: string): Error {
  const err = new Error(message);
  if (name) err.name = name;
  if (code) (err as Error & { code?: string }).code = code;
  return err;
}

/** Compares a sequence of incoming bytes with recorded chunks, without joining either. */
class ByteMatcher {
  readonly #chunks: Buffer[];
  #index = 0;
  #offset = 0;
  #seen = 0;
  readonly total: number;

  constructor(chunks: Buffer[]) {
    this.#chunks = chunks;
    this.total = chunks.reduce((sum, c) => sum + c.length, 0);
  }

  get seen(): number {
    return this.#seen;
  }

  get complete(): boolean {
    return this.#seen === this.total;
  }

  /** The stream offset of the first byte that differs (or goes past the end), else -1. */
  feed(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.length) {
      const current = this.#chunks[this.#index];
      if (!current) return this.#seen;
      const n = Math.min(current.length - this.#offset, chunk.length - at);
      if (!chunk.subarray(at, at + n).equals(current.subarray(this.#offset, this.#offset + n))) {
        for (let k = 0; k < n; k++) if (chunk[at + k] !== current[this.#offset + k]) return this.#seen + k;
      }
      at += n;
      this.#seen += n;
      this.#offset += n;
      if (this.#offset === current.length) {
        this.#index++;
        this.#offset = 0;
      }
    }
    return -1;
  }
}

async function consumeBody(body: Dispatcher.DispatchOptions['body'], ex: RecordedExchange): Promise<void> {
  const matcher = new ByteMatcher(ex.bodyChunks);
  const source = body instanceof Readable ? body : Readable.from(body as unknown as AsyncIterable<unknown>, { objectMode: false });
  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece as Uint8Array);
    const at = matcher.feed(chunk);
    if (at !== -1) {
      source.destroy();
      throw new SkiffError('replay', `replay: the body sent with ${describe(ex.shape)} differs from the recording (#${ex.n}) at byte ${at}`);
    }
  }
  if (!matcher.complete) throw new SkiffError('replay', `replay: the body sent with ${describe(ex.shape)} has ${matcher.seen} bytes; the recording (#${ex.n}) has ${matcher.total}`);
}

function drain(body: Dispatcher.DispatchOptions['body']): void {
  if (body instanceof Readable) body.on('error', () => undefined).destroy();
}

/**
 * The hijacked connection on replay. The daemon's bytes come in recorded order, and never ahead
 * of the client: output recorded after the client's n-th byte of input (or its half-close) is
 * delivered once the client has written that much (or half-closed). The client's bytes must be
 * the recorded ones. Not half-open on the read side, like the real upgraded socket.
 */
class ReplaySocket extends Duplex {
  readonly #ex: RecordedExchange;
  readonly #session: Session;
  readonly #stdin: ByteMatcher;
  /** The next event of the exchange (the first after the upgrade, to begin with). */
  #i: number;
  /** Client bytes the recording had seen by the current event. */
  #required = 0;
  #clientEnded = false;
  #serverEnded = false;
  #wantsRead = false;
  #scheduled = false;
  #cancelWait: (() => void) | undefined;

  constructor(ex: RecordedExchange, first: number, session: Session) {
    super({ allowHalfOpen: false });
    this.#ex = ex;
    this.#i = first;
    this.#session = session;
    this.#stdin = new ByteMatcher(ex.events.slice(first).flatMap((e) => (e.ev === 'client' ? [decodeData(e.data)] : [])));
  }

  override _read(): void {
    this.#wantsRead = true;
    this.#schedule();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const at = this.#stdin.feed(chunk);
    if (at !== -1) {
      callback(new SkiffError('replay', `replay: the input written to ${describe(this.#ex.shape)} differs from the recording (#${this.#ex.n}) at byte ${at}`));
      return;
    }
    callback();
    this.#schedule();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#clientEnded = true;
    if (!this.#stdin.complete) {
      callback(new SkiffError('replay', `replay: the input to ${describe(this.#ex.shape)} ended after ${this.#stdin.seen} bytes; the recording (#${this.#ex.n}) has ${this.#stdin.total}`));
      return;
    }
    callback();
    this.#schedule();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#cancelWait?.();
    callback(error);
  }

  /** The daemon's next event may go out: the requests recorded before it have been made. */
  #ordered(): boolean {
    const pos = this.#ex.positions[this.#i]!;
    if (this.#session.order.ready(pos)) return true;
    this.#cancelWait?.();
    this.#cancelWait = this.#session.order.wait(pos, () => this.#schedule());
    return false;
  }

  #schedule(): void {
    if (this.#scheduled || this.destroyed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#step();
    });
  }

  #step(): void {
    while (!this.destroyed) {
      const ev = this.#ex.events[this.#i];
      if (!ev) {
        if (!this.#serverEnded) this.destroy(new SkiffError('replay', `replay: the recording ends inside the hijacked session of #${this.#ex.n} ${describe(this.#ex.shape)}`));
        return;
      }
      switch (ev.ev) {
        case 'client': {
          const need = this.#required + decodeData(ev.data).length;
          if (this.#stdin.seen < need) return;
          this.#required = need;
          break;
        }
        case 'client-end':
          if (!this.#clientEnded) return;
          break;
        case 'server': {
          if (!this.#ordered()) return;
          if (!this.#wantsRead) return;
          if (!this.push(decodeData(ev.data))) this.#wantsRead = false;
          this.#i++;
          if (this.#session.split) {
            this.#schedule();
            return;
          }
          continue;
        }
        case 'server-end':
          if (!this.#ordered()) return;
          this.#serverEnded = true;
          this.push(null);
          break;
        case 'server-error':
          if (!this.#ordered()) return;
          this.#i++;
          this.destroy(recordedError(ev.message, ev.code));
          return;
        case 'client-destroy':
          // The client tore the session down here when it was recorded; wait for it to.
          return;
        default:
          this.destroy(new SkiffError('protocol', `replay: exchange #${this.#ex.n} has a "${ev.ev}" event inside its hijacked session`));
          return;
      }
      this.#i++;
    }
  }
}
