// When the services of finished swarm steps are removed (removals.ts): held while another service
// of the run is starting its tasks, at once when none is, never longer than the cap, and every
// one done before the run ends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Removals } from '../../lib/executors/swarm/removals.js';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function removal(log: string[], name: string): () => Promise<void> {
  return async () => {
    log.push(`start ${name}`);
    await wait(5);
    log.push(`done ${name}`);
  };
}

describe('swarm service removals', () => {
  it('with nothing starting, a removal goes at once', async () => {
    const log: string[] = [];
    const r = new Removals();
    r.add(removal(log, 'a'));
    assert.deepEqual(log, ['start a']);
    await r.close();
    assert.deepEqual(log, ['start a', 'done a']);
  });

  it('held while another service starts its tasks, released when the last one has started', async () => {
    const log: string[] = [];
    const r = new Removals();
    const startedB = r.starting();
    const startedC = r.starting();
    r.add(removal(log, 'a'));
    await wait(20);
    assert.deepEqual(log, [], 'held while b and c start');
    startedB();
    startedB();
    assert.deepEqual(log, [], 'c still starts (and a second call for b counts once)');
    startedC();
    assert.deepEqual(log, ['start a']);
    await r.close();
  });

  it('never held past the cap, and the run ends only when every removal is done', async () => {
    const log: string[] = [];
    const r = new Removals();
    r.starting();
    r.add(removal(log, 'a'));
    const t0 = performance.now();
    await r.close();
    assert.deepEqual(log, ['start a', 'done a'], 'close does what is held, and waits for it');
    assert.ok(performance.now() - t0 < 1_000, 'close does not wait for the cap');
    const r2 = new Removals();
    r2.starting();
    r2.add(removal(log, 'b'));
    await wait(2_300);
    assert.ok(log.includes('start b'), 'released by the cap while another service is still starting');
    await r2.close();
  });
});
