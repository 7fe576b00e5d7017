// `skiff validate`, `skiff schema`, `--version`, `--help`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, fixture, runCli, sandbox, type Sandbox } from './run-cli.js';

const T = { timeout: 60_000 };

describe('skiff commands', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  it('validate prints FILE: ok (N steps) for a valid DAG', T, async () => {
    const res = await runCli(['validate', fixture('ok.yaml')], box.env);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `${fixture('ok.yaml')}: ok (3 steps)\n`);
    assert.equal(res.stderr, '');
  });

  it('validate runs nothing', T, async () => {
    const res = await runCli(['validate', fixture('sleep.yaml')], { ...box.env, SKIFF_TEST_PID_FILE: box.path('never.pid') });
    assert.equal(res.code, 0);
    assert.throws(() => readFileSync(box.path('never.pid')), { code: 'ENOENT' });
  });

  it('schema prints the JSON Schema of DAG files', T, async () => {
    const res = await runCli(['schema'], box.env);
    assert.equal(res.code, 0, res.stderr);
    const schema = JSON.parse(res.stdout) as { properties?: Record<string, unknown> };
    assert.ok(schema.properties?.steps, 'properties.steps');
  });

  it('--version prints the version from package.json', T, async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const res = await runCli(['--version'], box.env);
    assert.equal(res.code, 0);
    assert.equal(res.stdout, `${version}\n`);
  });

  for (const [command, words] of [
    ['run', /run a DAG file/i],
    ['validate', /check a DAG file/i],
    ['schema', /JSON Schema/],
  ] as const) {
    it(`${command} --help describes the command, with examples`, T, async () => {
      const res = await runCli([command, '--help'], box.env);
      assert.equal(res.code, 0);
      assert.match(res.stdout, words);
      assert.match(res.stdout, /Examples/);
      assert.match(res.stdout, new RegExp(`\\$ skiff ${command}`));
    });
  }

  it('an unknown command is a usage error (exit 2)', T, async () => {
    const res = await runCli(['frobnicate'], box.env);
    assert.equal(res.code, 2);
    assert.equal(res.stdout, '');
    assert.notEqual(res.stderr, '');
  });
});
