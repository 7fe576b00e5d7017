// A recorded run behaves as a live one: a cancelled step exec'd into the DAG-level container has
// its process stopped under `recordDir` (skiff run --record) as it is live. The container is
// kept (keepContainer), so nothing but the exec's own stop can end the process: were the
// recorded engine taken for a remote one, the process would outlive the run.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runDagFile } from '../../lib/run.js';
import { liveEngine, TEST_IMAGE } from '../support/live.js';

const box = mkdtempSync(join(tmpdir(), 'skiff-recorded-cancel-'));
after(() => rmSync(box, { recursive: true, force: true }));

/** Host PIDs of processes whose argv is exactly `argv` (container processes are visible here). */
function processesRunning(argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8') === want) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

for (const mode of ['live', 'recorded'] as const) {
  test(`${mode}: a cancelled exec step's process is stopped, the kept container left running`, { timeout: 120_000 }, async () => {
    // Unique to this test and process, so no other test's sleep is taken for ours.
    const argv = ['sleep', String(30_000 + (process.pid % 10_000) + (mode === 'live' ? 0 : 1))];
    const file = join(box, `cancel-${mode}.yaml`);
    writeFileSync(file, `container:\n  image: ${TEST_IMAGE}\n  keepContainer: true\nsteps:\n  - name: sleeper\n    command: [${argv.map((a) => JSON.stringify(a)).join(', ')}]\n`);
    const cancel = new AbortController();
    const running = runDagFile(file, {
      env: { ...process.env, SKIFF_STATE_DIR: join(box, 'state') },
      signal: cancel.signal,
      ...(mode === 'recorded' ? { recordDir: join(box, 'recording') } : {}),
    });
    let ended = false;
    void running.finally(() => (ended = true));
    while (processesRunning(argv).length === 0) {
      assert.equal(ended, false, 'the run ended before its step started');
      await sleep(50);
    }
    cancel.abort();
    const result = await running;
    const engine = await liveEngine();
    try {
      assert.equal(result.report.steps[0]?.status, 'cancelled', JSON.stringify(result.report));
      assert.equal(result.exitCode, 130);
      const kept = await engine.containers.list({ label: [`dev.skiff.run=${result.runId}`] });
      assert.equal(kept.length, 1, 'the kept container is still there');
      assert.equal(kept[0]!.State, 'running');
      assert.deepEqual(processesRunning(argv), [], `the step's process outlived the ${mode} run`);
    } finally {
      for (const c of await engine.containers.list({ label: [`dev.skiff.run=${result.runId}`] })) await engine.containers.remove(c.Id, { force: true });
      await engine.close();
    }
  });
}
