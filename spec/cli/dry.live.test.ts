// `skiff dry` through the CLI: it prints the plan (order, images to pull, containers to create),
// evaluates preconditions, and creates nothing: the engine records no event for the DAG's labels
// (while a real run of the same file does, which shows the check can see them), no step leaves
// its mark, no image is pulled, no history is written.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Engine } from '../../lib/engine/index.js';
import { openEngine } from '../../lib/engine/index.js';
import { engineEnv, liveEngine } from '../support/live.js';
import { engineEvents, leftovers, nowSeconds } from '../support/skiff-cli.js';
import { fixture, runCli, sandbox, type Sandbox } from './run-cli.js';

const T = { timeout: 120_000 };
const DAG_LABEL = 'dev.skiff.dag=cli-dry';

describe('skiff dry', () => {
  let box: Sandbox;
  let engine: Engine;
  before(async () => {
    box = sandbox();
    engine = await liveEngine();
  });
  after(async () => {
    const runs = join(box.dir, 'state', 'runs', 'cli-dry');
    if (existsSync(runs)) for (const id of readdirSync(runs)) for (const c of await leftovers(engine, id)) await engine.containers.remove(c.Id, { force: true });
    await engine.close();
    box.cleanup();
  });

  it('prints the plan and creates nothing: no engine event, no step run, no pull, no history', T, async () => {
    const since = nowSeconds() - 1;
    const res = await runCli(['dry', fixture('dry.yaml'), '--', `MARKS=${box.dir}`], box.env);
    assert.equal(res.code, 0, res.stderr);
    const out = res.stdout;
    assert.match(out, /^dry run of cli-dry: nothing was created, started or recorded\nparams: MARKS=/);
    assert.match(out, /\n +1\. host +on the host \(in .+\): echo ran >> ".+\/host\.ran"\n/);
    assert.match(out, /\n +\d\. boxed +in a new container from skiff-busybox:latest \(image present; removed after\): \["sh","-c","echo ran in a container"\]\n/);
    assert.match(out, /\n +\d\. fresh +in a new container from localhost:5999\/skiff-dry-absent:never \(to pull; removed after\): \["true"\]\n/);
    assert.match(out, /\n +- gated +skipped: a precondition is not met\n/);
    // host runs before boxed, which depends on it.
    assert.ok(out.indexOf(' host ') < out.indexOf(' boxed '), out);
    assert.match(out, /\nimages to pull: localhost:5999\/skiff-dry-absent:never\ncontainers to create: 2 \((boxed, fresh|fresh, boxed)\)\ncontainers to reuse: none\n$/);

    assert.deepEqual(await engineEvents(engine, since, [DAG_LABEL]), [], 'no engine event for the DAG');
    assert.equal(await engine.images.find('localhost:5999/skiff-dry-absent:never'), undefined, 'nothing pulled');
    assert.equal(existsSync(join(box.dir, 'host.ran')), false, 'the host step did not run');
    assert.equal(existsSync(join(box.dir, 'state', 'runs')), false, 'no history');
  });

  it('the same event check sees a real run of the file (the check can fail)', T, async () => {
    const since = nowSeconds() - 1;
    const res = await runCli(['run', fixture('dry.yaml'), '--', `MARKS=${box.dir}`], box.env);
    // `fresh` cannot pull its image: the run fails, after `boxed` ran in a container.
    assert.equal(res.code, 1, res.stderr);
    assert.equal(existsSync(join(box.dir, 'host.ran')), true);
    const events = await engineEvents(engine, since, [DAG_LABEL]);
    assert.ok(events.some((e) => e.Type === 'container' && e.Action === 'create'), JSON.stringify(events));
  });

  it('swarm steps: the services each would make, one per wave, and none made on the swarm', T, async () => {
    const file = join(box.dir, 'swarm.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      file,
      `name: cli-dry-swarm
type: graph
steps:
  - name: fan
    executor: {type: swarm, config: {image: busybox:1, replicas: 5, maxConcurrent: 2, placement: {constraints: [node.role==manager]}}}
    command: echo hi
  - name: one
    executor: {type: swarm, config: {image: "\${IMG}", pull: never}}
    command: [echo, x]
`,
    );
    const swarm = openEngine({ env: { DOCKER_HOST: engineEnv.SKIFF_SWARM_HOST! } });
    try {
      const res = await runCli(['dry', file, '--', 'IMG=skiff-busybox:latest'], { ...box.env, DOCKER_HOST: engineEnv.SKIFF_SWARM_HOST! });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /\n +\d\. fan +as 3 swarm services from busybox:1 \(5 tasks, 2 at a time, one service per wave; pinned to its registry digest, pulled by the nodes that lack it; on nodes where node\.role==manager\), removed after: echo hi\n/);
      assert.match(res.stdout, /\n +\d\. one +as a swarm service from skiff-busybox:latest \(one task; the manager's local image, pinned by ID, never pulled\), removed after: \["echo","x"\]\n/);
      assert.match(res.stdout, /\nswarm services to create: 4 \((fan ×3, one|one, fan ×3)\), each removed when its tasks end\n$/);
      assert.doesNotMatch(res.stdout, /on the host/);
      assert.deepEqual(await swarm.services.list({ label: ['dev.skiff.dag=cli-dry-swarm'] }), [], 'no service made');
    } finally {
      await swarm.close();
    }
  });

  it('a DAG precondition that is not met: the plan says the run would stop there (exit 0)', T, async () => {
    const file = join(box.dir, 'gated.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'name: cli-dry-gated\npreconditions:\n  - condition: "test -e /nonexistent/gate"\nsteps:\n  - name: a\n    command: echo a\n');
    const res = await runCli(['dry', file], box.env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /the run would stop before its first step: precondition not met: test -e \/nonexistent\/gate\n$/);
  });

  it('an invalid file lists its problems and exits 2', T, async () => {
    const res = await runCli(['dry', fixture('broken-unknown-key.yaml')], box.env);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /broken-unknown-key\.yaml:\d+:\d+: /);
    assert.equal(res.stdout, '');
  });
});
