// stopExecProcess against a fake engine: the daemon marks an exec running before it knows the
// process's host PID, and a Ctrl-C can land in between (the process has already printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { ExecInspector } from '../../lib/executors/docker/stop-exec.js';
import { stopExecProcess } from '../../lib/executors/docker/stop-exec.js';

/** A local engine whose exec inspect answers `state(n)` on its n-th call; `asked()` counts them. */
function fakeEngine(state: (n: number) => { Running: boolean; Pid: number }): { engine: ExecInspector; asked(): number } {
  let n = 0;
  const inspect = async () => ({ ID: 'e1', ExitCode: null, ContainerID: 'c1', ...state(++n) });
  return { engine: { local: true, exec: { inspect } }, asked: () => n };
}

test('an exec that is running but has no PID yet is asked again, then its process is stopped', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const { engine, asked } = fakeEngine((n) => ({ Running: true, Pid: n < 3 ? 0 : child.pid! }));
  try {
    await stopExecProcess(engine, 'e1', { graceSec: 5, signal: AbortSignal.abort() });
    const [code, signal] = await exited;
    assert.equal(signal, 'SIGTERM', `exited with ${code}`);
    assert.equal(asked(), 3);
  } finally {
    child.kill('SIGKILL');
  }
});

test('an exec that has already ended is left alone', async () => {
  const { engine, asked } = fakeEngine(() => ({ Running: false, Pid: 0 }));
  await stopExecProcess(engine, 'e1', { graceSec: 5, signal: AbortSignal.abort() });
  assert.equal(asked(), 1);
});
