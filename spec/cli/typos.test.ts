// `skiff validate` catches what a new user types wrong: every mapping skiff interprets refuses an
// unknown key at its place with what was probably meant; the docker pass-through blocks are
// checked against the Engine API's field names (any letter case); Dagu keys skiff does not
// support are named as such (an error when ignoring them would change what runs, a warning when
// not); top-level `x-` keys hold YAML anchors. And `exec` beside `image` with no `containerName`
// is Dagu's load error: nothing runs, nothing is created.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { readJson, runCli, sandbox, type Sandbox } from './run-cli.js';

const T = { timeout: 60_000 };
const DOCKER = ['    executor:', '      type: docker', '      config:', '        image: skiff-busybox'];

describe('typos and unsupported keys', () => {
  let box: Sandbox;
  let n = 0;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  async function validate(lines: string[]) {
    const file = box.path(`case-${++n}.yaml`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const res = await runCli(['validate', file], box.env);
    return { ...res, file, errors: res.stderr.split('\n').filter((l) => l !== '').map((l) => l.slice(file.length + 1)) };
  }

  it('continueOn: {failed: true} is refused at its place, with did-you-mean failure', T, async () => {
    const r = await validate(['steps:', '  - name: build', '    command: exit 1', '    continueOn: {failed: true}', '  - name: next', '    command: echo next', '    depends: build']);
    assert.equal(r.code, 2);
    assert.deepEqual(r.errors, ['4:18: step "build" continueOn has invalid key: failed; did you mean failure?']);
  });

  it('step and DAG keys: depend → depends, nmae → name; handlerOn onFailure → failure', T, async () => {
    const r = await validate(['nmae: x', 'handlerOn:', '  onFailure:', '    command: echo', 'steps:', '  - name: a', '    command: echo a', '  - name: b', '    command: echo b', '    depend: a']);
    assert.equal(r.code, 2);
    assert.deepEqual(r.errors, [
      '1:1: DAG has invalid key: nmae; did you mean name?',
      '3:3: handlerOn has invalid key: onFailure; did you mean failure?',
      '10:5: step "b" has invalid key: depend; did you mean depends?',
    ]);
  });

  it('docker config: volume and autoRemoval refused with where they belong; autoremove in any case is autoRemove', T, async () => {
    const bad = await validate(['steps:', '  - name: a', ...DOCKER, '        volume: /data:/data', '        autoRemoval: true', '    command: echo a']);
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.errors, [
      '7:17: unknown key volume in the docker executor config; did you mean host.binds (bind mounts) or container.volumes?',
      '8:22: unknown key autoRemoval in the docker executor config; did you mean autoRemove?',
    ]);
    const fine = await validate(['steps:', '  - name: a', ...DOCKER, '        AUTOREMOVE: true', '        host: {AutoRemove: true, BINDS: ["/tmp:/tmp"]}', '    command: echo a']);
    assert.equal(fine.code, 0, fine.stderr);
  });

  it('pass-through blocks: Engine API field names in any letter case; a typo gets the field it meant', T, async () => {
    const r = await validate(['steps:', '  - name: a', ...DOCKER, '        container: {evn: [A=1], WorkingDir: /w, user: root}', '        host: {memroy: 100}', '    command: echo a']);
    assert.equal(r.code, 2);
    assert.deepEqual(r.errors, [
      '7:26: unknown key container.evn (not a Docker Config field; did you mean Env?)',
      '8:24: unknown key host.memroy (not a Docker HostConfig field; did you mean Memory?)',
    ]);
  });

  it('Dagu keys skiff does not support: call and repeatPolicy refused as such, schedule and mailOn warned about', T, async () => {
    const refused = await validate(['steps:', '  - name: a', '    call: other-dag', '  - name: b', '    command: echo b', '    repeatPolicy: {repeat: true, intervalSec: 5}']);
    assert.equal(refused.code, 2);
    assert.deepEqual(refused.errors, [
      '3:5: step "a": call is not supported by skiff (the step would not run the DAG it calls); remove it, or run this DAG with Dagu',
      '6:5: step "b": repeatPolicy is not supported by skiff (the step would run once instead of repeating); remove it, or run this DAG with Dagu',
    ]);
    assert.doesNotMatch(refused.stderr, /invalid key/);

    const warned = await validate(['schedule: "5 4 * * *"', 'mailOn: {failure: true}', 'steps:', '  - name: a', '    command: echo a']);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stdout, /: ok \(1 step\)/);
    assert.deepEqual(warned.errors, [
      '1:1: warning: schedule is not supported by skiff (skiff has no scheduler: run the DAG from cron or CI); ignored',
      '2:1: warning: mailOn is not supported by skiff (skiff sends no mail); ignored',
    ]);
  });

  it('top-level x- keys give YAML anchors a home', T, async () => {
    const r = await validate(['x-docker: &docker', '  type: docker', '  config: {image: skiff-busybox, autoRemove: true}', 'steps:', '  - name: a', '    executor: *docker', '    command: echo a']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const nested = await validate(['steps:', '  - name: a', '    x-note: hi', '    command: echo a']);
    assert.equal(nested.code, 2);
    assert.deepEqual(nested.errors, ['3:5: step "a" has invalid key: x-note']);
  });

  it("exec beside image with no containerName is Dagu's load error; run starts nothing", T, async () => {
    const lines = ['steps:', '  - name: a', ...DOCKER, '        exec: {user: root}', '    command: echo a'];
    const r = await validate(lines);
    assert.equal(r.code, 2);
    assert.deepEqual(r.errors, ["7:15: 'exec' options require 'containerName' (exec-in-existing mode)"]);
    const reportFile = box.path('exec.json');
    const run = await runCli(['run', '--report', reportFile, r.file], box.env);
    assert.equal(run.code, 2);
    const report = readJson<RunReport>(reportFile);
    assert.equal(report.phase, 'load');
    assert.deepEqual(report.steps, []);
    assert.doesNotMatch(run.stdout, /started/);
  });
});
