// stopExecProcess against a fake engine: the daemon marks an exec running before it knows the
// process's host PID, and a Ctrl-C can land in between (the process has already printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Engine } from '../../lib/engine/index.js';
import { stopExecProcess } from '../../lib/executors/docker/stop-exec.js';

test('an exec that is running but has no PID yet is asked again, then its process is stopped', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  let asked = 0;
  const engine = {
    local: true,
    exec: {
      inspect: async () => {
        asked++;
        return { ID: 'e1', Running: true, ExitCode: null, ContainerID: 'c1', Pid: asked < 3 ? 0 : child.pid! };
      },
    },
  } as unknown as Engine;
  try {
    await stopExecProcess(engine, 'e1', { graceSec: 5, signal: AbortSignal.abort() });
    const [code, signal] = await exited;
    assert.equal(signal, 'SIGTERM', `exited with ${code}`);
    assert.equal(asked, 3);
  } finally {
    child.kill('SIGKILL');
  }
});

test('an exec that has already ended is left alone', async () => {
  let asked = 0;
  const engine = {
    local: true,
    exec: {
      inspect: async () => {
        asked++;
        return { ID: 'e1', Running: false, ExitCode: 0, ContainerID: 'c1', Pid: 0 };
      },
    },
  } as unknown as Engine;
  await stopExecProcess(engine, 'e1', { graceSec: 5, signal: AbortSignal.abort() });
  assert.equal(asked, 1);
});
