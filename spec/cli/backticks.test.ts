// A backtick evaluated while a run goes on (a step's env, exec-form arguments, retry values,
// precondition values) runs asynchronously: the other steps go on and show their output, and
// Ctrl-C stops it at once, leaving no process behind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { isAlive } from '../support/processes.js';
import { readJson, sandbox, startCli, type Sandbox } from './run-cli.js';

const T = { timeout: 120_000 };

describe('backticks during a run', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  it('a slow backtick in one step does not hold up another step, and Ctrl-C ends it: exit 130', T, async () => {
    const pidFile = box.path('backtick.pid');
    const file = box.path('slow-backtick.yaml');
    writeFileSync(
      file,
      [
        'type: graph',
        'steps:',
        '  - name: slow',
        '    env:',
        '      - SLOW: "`echo $$ > $SKIFF_TEST_PID_FILE; exec sleep 60`"',
        '    command: echo "$SLOW"',
        '  - name: fast',
        '    command: |',
        '      while [ ! -s "$SKIFF_TEST_PID_FILE" ]; do sleep 0.05; done',
        '      echo fast-done',
        '',
      ].join('\n'),
    );
    const reportFile = box.path('slow-backtick.json');
    const cli = startCli(['run', '-f', '--report', reportFile, file], { ...box.env, SKIFF_TEST_PID_FILE: pidFile });
    await cli.waitFor(/step fast succeeded/);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(isAlive(pid), 'the backtick already ended: the run waited for it');

    cli.child.kill('SIGINT');
    const res = await cli.done;
    assert.equal(res.code, 130, res.stderr);
    assert.match(res.stdout, /fast \| fast-done/);
    assert.equal(isAlive(pid), false, `backtick process ${pid} still exists`);
    const report = readJson<RunReport>(reportFile);
    assert.deepEqual(
      report.steps.map((s) => [s.name, s.status]),
      [
        ['slow', 'aborted'],
        ['fast', 'succeeded'],
      ],
    );
    assert.ok(existsSync(pidFile));
  });
});
