// What a step's values expand to before it starts (images ahead, creation ahead): known when
// they name only the run's settled scopes, unknown when they name what the step's start or an
// upstream decides. No daemon, no step runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadDag } from '../../lib/dag/index.js';
import type { Step } from '../../lib/common/model.js';
import { aheadExpander, commandAhead, runScope } from '../../lib/dag/step-scope.js';
import { yaml } from '../support/dags.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-ahead-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(text: string) {
  const file = join(dir, 'dag.yaml');
  writeFileSync(file, yaml(text));
  const dag = loadDag(file, { env: { FROM_PROCESS: 'proc' } });
  const expand = aheadExpander(runScope(dag, { DAG_NAME: dag.name, DAG_RUN_ID: 'r1', DAG_RUN_LOG_FILE: '/logs/run.log' }, { FROM_PROCESS: 'proc' }), dag.steps);
  const step = (name: string): Step => dag.steps.find((s) => s.name === name)!;
  return { expand, step };
}

const { expand, step } = load(`
  name: ahead
  params: TAG=v1
  env:
    - REGISTRY: 127.0.0.1:5000
  steps:
    - name: producer
      id: prod
      command: echo x
      output: PICKED
    - name: user
      env:
        - OWN: mine
      command: echo \${TAG}
`);

describe('expanding ahead', () => {
  test('params, DAG env, process env and the run and step built-ins are known', () => {
    assert.deepEqual(expand(step('user'), { image: '${REGISTRY}/app:${TAG}', x: ['${FROM_PROCESS}', '${DAG_RUN_ID}', '${DAG_RUN_STEP_NAME}'] }), {
      image: '127.0.0.1:5000/app:v1',
      x: ['proc', 'r1', 'user'],
    });
  });

  test('a name no scope defines stays as written (the container shell may expand it)', () => {
    assert.equal(expand(step('user'), 'echo $NOBODY ${NOBODY}'), 'echo $NOBODY ${NOBODY}');
  });

  for (const [what, value] of [
    ['an output', 'image: ${PICKED}'],
    ['a JSON field of an output', '${PICKED.tag}'],
    ["a step's stdout by id", '${prod.stdout}'],
    ["a step's exit code by id", '${prod.exitCode}'],
    ["the step's own env entry", '${OWN}'],
    ["the step's log file", '$DAG_RUN_STEP_STDOUT_FILE'],
  ] as const) {
    test(`naming ${what} is not known before the step starts`, () => {
      assert.equal(expand(step('user'), { deep: [value] }), undefined);
    });
  }

  test('commands: shell form expanded; exec form with a backtick (run on the host at start) is not known', () => {
    const shell = { ...step('user'), command: { form: 'shell', script: 'echo ${TAG}' } } as Step;
    assert.deepEqual(commandAhead(expand, shell), { form: 'shell', script: 'echo v1' });
    const exec = { ...step('user'), command: { form: 'exec', argv: ['echo', '${TAG}'] } } as Step;
    assert.deepEqual(commandAhead(expand, exec), { form: 'exec', argv: ['echo', 'v1'] });
    const backtick = { ...step('user'), command: { form: 'exec', argv: ['echo', '`date`'] } } as Step;
    assert.equal(commandAhead(expand, backtick), null);
    const fromOutput = { ...step('user'), command: { form: 'shell', script: 'echo ${PICKED}' } } as Step;
    assert.equal(commandAhead(expand, fromOutput), null);
    assert.equal(commandAhead(expand, { ...step('user'), command: undefined } as Step), undefined);
  });
});
