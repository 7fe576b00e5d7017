// No engine where DOCKER_HOST points: the run fails once, at its start (phase startup, no step
// started), with one line and a hint that fits the address; `cleanup` exits with the same code.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { readJson, runCli, sandbox, type Sandbox } from './run-cli.js';

const T = { timeout: 60_000 };
const DOCKER_STEP = (name: string) => [`  - name: ${name}`, '    executor: { type: docker, config: { image: skiff-busybox, autoRemove: true } }', '    command: echo hi'];

describe('engine unreachable', () => {
  let box: Sandbox;
  let file: string;
  before(() => {
    box = sandbox();
    file = box.path('two-docker-steps.yaml');
    writeFileSync(file, ['type: graph', 'steps:', ...DOCKER_STEP('a'), ...DOCKER_STEP('b'), ''].join('\n'));
  });
  after(() => box.cleanup());

  it('a socket that does not exist: phase startup, steps not_started, one line and a hint, same exit code as cleanup', T, async () => {
    const env = { ...box.env, DOCKER_HOST: 'unix:///nowhere' };
    const reportFile = box.path('nowhere.json');
    const run = await runCli(['run', '--report', reportFile, file], env);
    const report = readJson<RunReport>(reportFile);
    assert.equal(report.phase, 'startup');
    assert.equal(report.error, 'cannot reach the Docker engine: /nowhere does not exist (is the daemon running?)');
    assert.deepEqual(
      report.steps.map((s) => [s.status, s.exitCode]),
      [
        ['not_started', null],
        ['not_started', null],
      ],
    );
    assert.equal(
      run.stderr,
      'run could not start: cannot reach the Docker engine: /nowhere does not exist (is the daemon running?)\n' +
        '  hint: start the Docker daemon on this host (`sudo systemctl start docker`), or set DOCKER_HOST to the engine to use\n',
    );
    assert.doesNotMatch(run.stdout, /warning|set-up/);

    const cleanup = await runCli(['cleanup'], env);
    assert.equal(run.code, 1);
    assert.equal(cleanup.code, run.code);
  });

  it('a TCP address with nothing listening: the hint is about that address, not this host', T, async () => {
    const env = { ...box.env, DOCKER_HOST: 'tcp://127.0.0.1:1' };
    const run = await runCli(['run', '-q', file], env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^run could not start: cannot reach the Docker engine at tcp:\/\/127\.0\.0\.1:1: connection refused/);
    assert.match(run.stderr, /\n {2}hint: check that DOCKER_HOST \(tcp:\/\/127\.0\.0\.1:1\) is the right address/);
    assert.doesNotMatch(run.stderr, /systemctl|scripts\//);
  });

  it('a DAG of local steps does not touch the engine', T, async () => {
    const local = box.path('local.yaml');
    writeFileSync(local, 'steps:\n  - name: a\n    command: echo hi\n');
    const run = await runCli(['run', local], { ...box.env, DOCKER_HOST: 'unix:///nowhere' });
    assert.equal(run.code, 0, run.stderr);
  });
});
