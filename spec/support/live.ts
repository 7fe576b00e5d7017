// Live tests run against the real engine that scripts/engine-up brings up. No engine is a
// failure, never a skip: CI must not pass without having run them.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { openEngine, type Engine } from '../../lib/engine/index.js';
import { ownedFilter, skiffLabels } from '../../lib/executors/docker/labels.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The values of scripts/engine.env (image names, registries, test credentials). */
export const engineEnv: Record<string, string> = Object.fromEntries(
  readFileSync(join(repoRoot, 'scripts', 'engine.env'), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => {
      const eq = line.indexOf('=');
      const raw = line.slice(eq + 1);
      const fallback = /^\$\{[A-Z_]+:-(.*)\}$/.exec(raw);
      return [line.slice(0, eq), (fallback ? fallback[1]! : raw).replace(/^'(.*)'$/, '$1')];
    }),
);

export const TEST_IMAGE = engineEnv.SKIFF_TEST_IMAGE!;

/** An engine that must answer; the error says to run scripts/engine-up. */
export async function liveEngine(env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const engine = openEngine({ env });
  try {
    await engine.version(AbortSignal.timeout(5000));
  } catch (err) {
    await engine.close();
    throw new Error(`live tests need the engine: run \`bash scripts/engine-up\` first (${(err as Error).message})`);
  }
  return engine;
}

/** Labels that mark what one test file creates, so its `after()` can reap it. */
export function testLabels(file: string): Record<string, string> {
  return skiffLabels({ runId: `test-${process.pid}-${file}`, dag: 'spec' });
}

export async function reap(engine: Engine, labels: Record<string, string>): Promise<void> {
  const runId = labels['dev.skiff.run']!;
  for (const c of await engine.containers.list(ownedFilter(runId))) await engine.containers.remove(c.Id, { force: true });
  for (const n of await engine.networks.list(ownedFilter(runId))) await engine.networks.remove(n.Id);
}

/** A Writable that keeps what it is given, for asserting on output. */
/**
 * Copies what it is given and calls back on a later turn, as a log file writer does: a target
 * that honours runContainer's `targetsCopy`, slow enough that reading has to pause.
 */
export class SlowCopy extends Writable {
  readonly parts: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.parts.push(Buffer.from(chunk));
    setImmediate(cb);
  }
  buffer(): Buffer {
    return Buffer.concat(this.parts);
  }
  text(): string {
    return this.buffer().toString('utf8');
  }
}

export class Collect extends Writable {
  readonly parts: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.parts.push(chunk);
    cb();
  }
  buffer(): Buffer {
    return Buffer.concat(this.parts);
  }
  text(): string {
    return this.buffer().toString('utf8');
  }
}
