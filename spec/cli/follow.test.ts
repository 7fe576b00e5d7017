// `skiff run --follow`: step output as it arrives, each line prefixed by the step name, stdout
// to stdout and stderr to stderr, never two steps within one line.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TIMESTAMP, fixture, runCli, sandbox, type Sandbox } from './run-cli.js';

describe('skiff run --follow', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  it('prefixes every output line with the step name', { timeout: 60_000 }, async () => {
    const res = await runCli(['run', '-f', fixture('follow.yaml')], box.env);
    assert.equal(res.code, 0, res.stderr);
    const out = res.stdout.trimEnd().split('\n');
    const outputLines = out.filter((l) => !TIMESTAMP.test(l) && !l.startsWith('run ') && !l.startsWith('logs: '));
    assert.deepEqual(
      outputLines.filter((l) => l.startsWith('alpha | ')),
      ['alpha | alpha line 1', 'alpha | alpha line 2', 'alpha | alpha line 3'],
    );
    // The last line had no newline: it is shown when the step ends.
    assert.deepEqual(outputLines.filter((l) => l.startsWith('beta | ')), ['beta | beta out', 'beta | beta no newline']);
    assert.equal(outputLines.length, 5, res.stdout);
    assert.equal(res.stderr, 'beta | beta err\n');
    // The step's end comes after its last line.
    const noNewline = out.indexOf('beta | beta no newline');
    const betaEnd = out.findIndex((l) => / step beta succeeded/.test(l));
    assert.ok(noNewline >= 0 && betaEnd > noNewline, res.stdout);
  });
});
