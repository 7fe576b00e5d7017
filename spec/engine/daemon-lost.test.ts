// The daemon dying in the middle of a step (daemon-faults check): the open wait is the first to
// notice, and must say the engine went away, not that it spoke a bad protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine } from '../../lib/engine/index.js';
import { SkiffError } from '../../lib/engine/errors.js';

test('a wait cut off by the daemon going away is an engine-unreachable error naming the socket', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-lost-'));
  const socketPath = join(dir, 'docker.sock');
  // Answers the wait's headers, then dies the way a SIGKILLed dockerd does: the socket closes.
  const server = createServer((sock) => {
    sock.once('data', () => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      setTimeout(() => sock.destroy(), 50);
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  const engine = openEngine({ env: { DOCKER_HOST: `unix://${socketPath}`, DOCKER_API_VERSION: '1.41' } });
  try {
    const { result } = await engine.containers.registerWait('abc', 'next-exit');
    const err = await result.then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof SkiffError, String(err));
    assert.equal(err.kind, 'engine-unreachable');
    assert.match(err.message, /^wait for container: the Docker engine at unix:\/\/.*docker\.sock closed the connection/);
    assert.match(err.hint ?? '', /stopped or restarted/);
  } finally {
    await engine.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
