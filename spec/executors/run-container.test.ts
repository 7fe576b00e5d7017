// runContainer's ownership of the attach connection when the run fails before it starts: a
// fake engine, because a real one does not refuse a wait on a container it just created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { RunEngine } from '../../lib/executors/docker/run.js';
import { SkiffError } from '../../lib/common/errors.js';
import { runContainer } from '../../lib/executors/docker/run.js';

test('an attach that answers after the wait failed is closed, not left open', async () => {
  const socket = new PassThrough();
  let removed = false;
  const engine = {
    containers: {
      create: async () => ({ Id: 'c1', Warnings: [] }),
      attachBorrowed: async () => undefined,
      attach: async () => {
        await delay(30);
        return { socket, headers: {} };
      },
      registerWait: async () => {
        throw new SkiffError('engine', 'wait for container: refused');
      },
      remove: async () => {
        removed = true;
      },
      // Never reached: the wait failed, so nothing started and nothing runs to be killed.
      start: async () => assert.fail('started after the wait failed'),
      kill: async () => assert.fail('killed a container that never started'),
    },
  } satisfies RunEngine;
  await assert.rejects(
    runContainer(engine, { body: { Image: 'x' }, autoRemove: true, stdout: new PassThrough(), stderr: new PassThrough(), targetsCopy: true }),
    /refused/,
  );
  await delay(60);
  assert.ok(socket.destroyed, 'the attach connection is still open');
  assert.ok(removed, 'the container that never started was not removed');
});
