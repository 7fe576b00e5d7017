// One process exec'd into a running container (docs/engine-api.md §7): create, start hijacked,
// read the stream to its end, then inspect once for the exit code. The container belongs to
// someone else (the user, or the DAG-level container's owner); only the exec'd process is ours.
import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import type { EngineApi } from '../../engine/facets.js';
import type { ExecBody } from '../../engine/exec.js';
import { outputSink, pumpOutput } from '../../engine/framing.js';
import { feedStdin } from '../../engine/hijack.js';
import { SkiffError } from '../../common/errors.js';

export interface ExecOptions {
  body: ExecBody;
  stdin?: Readable | Buffer | string;
  stdout: Writable;
  stderr: Writable;
  /** As runContainer's: the targets copy, so output may be read into one reused buffer. */
  targetsCopy?: boolean;
  signal?: AbortSignal;
  /**
   * Stops the exec'd process when `signal` aborts; the stream then ends by itself and the exit
   * code is read as usual. Without it (or if it fails) the stream is cut and the process is left.
   */
  stop?(execId: string): Promise<void>;
}

export interface ExecResult {
  execId: string;
  exitCode: number;
}

const INSPECT_POLL_MS = 50;
const INSPECT_POLL_LIMIT = 40;
const INSPECT_TIMEOUT_MS = 10_000;
// The daemon closes an exec stream up to ~2 s after the process exits (docs/engine-api.md §7.2).
const STREAM_DRAIN_MS = 3_000;

export async function execIn(engine: EngineApi, containerId: string, options: ExecOptions): Promise<ExecResult> {
  const { signal } = options;
  const tty = options.body.Tty === true;
  const withStdin = options.stdin !== undefined;
  const execId = await engine.exec.create(containerId, { ...options.body, AttachStdin: withStdin }, { signal });
  const started = (options.targetsCopy ? await engine.exec.startBorrowed(execId, tty, { signal }) : undefined) ?? (await engine.exec.start(execId, tty, { signal }));
  const { socket } = started;
  const cut = () => socket.destroy(new SkiffError('aborted', 'exec cancelled'));
  const onAbort = () => {
    if (!options.stop) return cut();
    // Give the stream a moment to end on its own once the process is gone.
    options.stop(execId).then(() => setTimeout(cut, STREAM_DRAIN_MS).unref(), cut);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const done = 'read' in started ? pumpOutput(started, tty, options.stdout, options.stderr) : pipeline(socket, outputSink(tty, options.stdout, options.stderr));
    feedStdin(socket, options.stdin);
    await done;
  } catch (err) {
    if (signal?.aborted) throw new SkiffError('aborted', 'exec cancelled', { cause: err });
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  // Not cancelled by `signal`: after a stop the exit code is exactly what the caller needs.
  return { execId, exitCode: await exitCodeOf(engine, execId, AbortSignal.timeout(INSPECT_TIMEOUT_MS)) };
}

// The daemon records the exit code before it closes the stream on current engines; older ones
// (and a stream cut short by the container dying) need a brief poll (docs/engine-api.md §7.3).
async function exitCodeOf(engine: EngineApi, execId: string, signal?: AbortSignal): Promise<number> {
  for (let i = 0; ; i++) {
    const info = await engine.exec.inspect(execId, { signal });
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    if (i >= INSPECT_POLL_LIMIT) throw new SkiffError('protocol', `exec ${execId.slice(0, 12)} output ended but the engine still reports it running`);
    await new Promise((r) => setTimeout(r, INSPECT_POLL_MS));
  }
}
