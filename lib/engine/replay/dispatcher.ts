// Replay: a Dispatcher that serves a recording (recording-format.ts describes the format) with no daemon
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
// - values the client makes up, as the caller's MatchRules name them (rules.ts: label values, a
//   run id, temp directories), are learned from the first request that carries them, held to
//   that from then on (one live value for one recorded value, both ways), and mapped back in
//   response bodies (an inspect's labels, Binds);
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
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { DispatcherBase, errors } from '../undici.js';
import { SkiffError } from '../errors.js';
import { RECORDING_FILE, controllerHandler, destroyArguments, parseRecording, type Recording } from '../recording-format.js';
import { ShapeComparer, type SlotPair } from './compare.js';
import { ReplayController } from './controller.js';
import { describe, groupExchanges, liveShape, type RecordedExchange, type Shape } from './exchanges.js';
import { Mapping } from './mapping.js';
import { Orderer } from './order.js';
import { ExchangePlayer, drain, type Session } from './player.js';
import { CompiledRules, type MatchRules } from './rules.js';

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
  /** What the code under test makes up per run (label values, ids of its own, temp paths): rules.ts. */
  match?: MatchRules;
}

export class ReplayDispatcher extends DispatcherBase {
  readonly source: string;
  /** Every request made, in order, as `METHOD path` (to assert on paths and versions). */
  readonly made: string[] = [];
  /** The replay errors given to the client, in order. */
  readonly misses: SkiffError[] = [];
  readonly #exchanges: RecordedExchange[];
  readonly #session: Session;
  readonly #compare: ShapeComparer;
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
    const rules = new CompiledRules(options.match);
    this.#compare = new ShapeComparer(rules);
    this.#session = {
      rules,
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
      if (this.#compare.compare(live, ex.shape, pairs)) continue;
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
    const kind = this.#compare.kindOf(live);
    const expected = unused.find((ex) => this.#compare.kindOf(ex.shape) === kind) ?? unused.find((ex) => ex.shape.method === live.method) ?? unused[0]!;
    const pairs: SlotPair[] = [];
    const diff = this.#compare.compare(live, expected.shape, pairs);
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
    const given = destroyArguments(a, b);
    const callback = given.callback;
    const err = given.err ?? new errors.ClientDestroyedError();
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
