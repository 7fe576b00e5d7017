// The two dialects through the CLI as a user types it: `skiff migrate`, the warnings of
// `skiff validate` on deprecated 2.x syntax, `skiff schema [dag] [PATH] --dialect`, and a 2.x
// file run by `skiff run` with the report naming steps by name, else by id.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { readJson, runCli, sandbox, type Sandbox } from './run-cli.js';

const T = { timeout: 60_000 };

describe('Dagu 1.2x and 2.x files through the CLI', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  const write = (name: string, text: string) => {
    writeFileSync(box.path(name), text);
    return box.path(name);
  };

  it('migrate prints the 2.x form, notes on stderr, and exit 0; -o writes it to a file', T, async () => {
    const file = write('old.yaml', '# keep me\nenv:\n  - NOW: "`date`"\nsteps:\n  - name: a\n    command: echo a\n    continueOn: failed\n');
    const res = await runCli(['migrate', file], box.env);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, '# keep me\nenv:\n  - NOW: "`date`"\nsteps:\n  - name: a\n    run: echo a\n    continue_on: failed\n');
    assert.match(res.stderr, new RegExp(`^${file}:3: env\\[0\\]\\.NOW: env value runs a command in backticks`));
    const out = box.path('new.yaml');
    const written = await runCli(['migrate', file, '-o', out], box.env);
    assert.equal(written.code, 0, written.stderr);
    assert.equal(written.stdout, '');
    assert.equal(readFileSync(out, 'utf8'), res.stdout);
  });

  it('migrate refuses a file that does not load, and a file that is already 2.x', T, async () => {
    const broken = await runCli(['migrate', write('broken.yaml', 'steps:\n  - name: a\n    comand: echo\n')], box.env);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /does not load, so it cannot be migrated/);
    const v2 = await runCli(['migrate', write('v2.yaml', 'steps:\n  - name: a\n    run: echo\n')], box.env);
    assert.equal(v2.code, 2);
    assert.match(v2.stderr, /already a Dagu 2\.x file; nothing to migrate/);
  });

  it('validate lists deprecated 2.x syntax as warnings and still exits 0', T, async () => {
    const file = write('deprecated.yaml', 'steps:\n  - name: a\n    command: echo a\n    timeout_sec: 5\n');
    const res = await runCli(['validate', file], box.env);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `${file}: ok (1 step)\n`);
    assert.equal(res.stderr, `${file}:3:5: warning: Deprecated DAG syntax: steps[0].command is deprecated; use run\n`);
  });

  it('validate refuses a file mixing the two spellings of a field, naming both', T, async () => {
    const file = write('mixed.yaml', 'steps:\n  - name: a\n    run: echo\n    timeoutSec: 5\n  - name: b\n    run: echo\n    timeout_sec: 5\n');
    const res = await runCli(['validate', file], box.env);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /mixed\.yaml:7:5: timeout_sec and timeoutSec \(at steps\[0\]\.timeoutSec\) are two spellings of one field/);
  });

  it('schema: --dialect 2 publishes the 2.x schema; dag and a dotted path select a part', T, async () => {
    const v2 = await runCli(['schema', 'dag', '--dialect', '2'], box.env);
    assert.equal(v2.code, 0, v2.stderr);
    const schema = JSON.parse(v2.stdout) as { properties: Record<string, unknown>; definitions: { step: { properties: Record<string, unknown> } } };
    for (const key of ['working_dir', 'handler_on', 'consts', 'max_active_steps']) assert.ok(key in schema.properties, key);
    for (const key of ['run', 'action', 'with', 'container', 'continue_on', 'retry_policy']) assert.ok(key in schema.definitions.step.properties, key);
    assert.ok(!('executor' in schema.definitions.step.properties));
    // Each container action's with offers its executor's keys, snake_cased: docker.run's and swarm.run's.
    const withs = (schema.definitions.step.properties.with as { anyOf: Array<{ properties?: Record<string, unknown> }> }).anyOf.map((b) => Object.keys(b.properties ?? {}));
    assert.ok(withs.some((keys) => ['image', 'container_name', 'auto_remove', 'host', 'working_dir', 'command'].every((k) => keys.includes(k))), JSON.stringify(withs));
    assert.ok(withs.some((keys) => ['image', 'placement', 'replicas', 'max_concurrent', 'resources', 'command'].every((k) => keys.includes(k))), JSON.stringify(withs));
    const part = await runCli(['schema', 'dag', 'steps.retry_policy', '--dialect', '2'], box.env);
    assert.deepEqual(Object.keys((JSON.parse(part.stdout) as { properties: object }).properties), ['limit', 'interval_sec', 'exit_code', 'backoff', 'max_interval_sec']);
    const v1 = await runCli(['schema', 'steps.retryPolicy'], box.env);
    assert.ok('intervalSec' in (JSON.parse(v1.stdout) as { properties: object }).properties);
    const missing = await runCli(['schema', 'dag', 'steps.nope'], box.env);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'skiff: schema navigation failed: path "steps.nope" not found\n');
  });

  it('run: a 2.x file runs; the report names a step by name, else by id; $VAR is the shell\'s', T, async () => {
    const file = write('v2.yaml', 'env:\n  - WHO=dag\nsteps:\n  - id: first\n    run: WHO=shell; echo "$WHO ${env.WHO}"\n  - name: Second step\n    id: second\n    depends: first\n    run: echo done\n');
    const report = box.path('report.json');
    const res = await runCli(['run', '--report', report, file], box.env);
    assert.equal(res.code, 0, res.stderr);
    const r = readJson<{ status: string; steps: Array<{ name: string; stdoutFile: string }> }>(report);
    assert.equal(r.status, 'succeeded');
    assert.deepEqual(r.steps.map((s) => s.name), ['first', 'Second step']);
    assert.equal(readFileSync(r.steps[0]!.stdoutFile, 'utf8'), 'shell dag\n');
  });
});
