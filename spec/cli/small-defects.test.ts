// Small things a user sees: log files of steps with non-ASCII names keep their letters, the log
// folder is said once, a DAG with no container step shows no set-up row, and a step skipped by a
// precondition says which.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { basename } from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { BIN, ROOT, readJson, runCli, sandbox, type Sandbox } from './run-cli.js';

const T = { timeout: 60_000 };

describe('small defects', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  it('steps named in other scripts get log files named after them, still distinct', T, async () => {
    const file = box.path('unicode.yaml');
    writeFileSync(file, ['steps:', '  - name: données', '    command: echo a', '  - name: ビルド', '    command: echo b', '  - name: ビルド?', '    command: echo c', ''].join('\n'));
    const reportFile = box.path('unicode.json');
    const res = await runCli(['run', '--report', reportFile, file], box.env);
    assert.equal(res.code, 0, res.stderr);
    const names = readJson<RunReport>(reportFile).steps.map((s) => basename(s.stdoutFile!));
    assert.deepEqual(names, ['données.stdout.log', 'ビルド.stdout.log', 'ビルド_.stdout.log']);
  });

  it('the log folder is printed once', T, async () => {
    const file = box.path('once.yaml');
    writeFileSync(file, 'steps:\n  - name: a\n    command: echo a\n');
    const res = await runCli(['run', file], box.env);
    assert.equal(res.code, 0, res.stderr);
    const dir = /^logs: (\S+)$/m.exec(res.stdout)?.[1];
    assert.ok(dir, res.stdout);
    assert.equal((res.stdout + res.stderr).split(dir).length - 1, 1, res.stdout);
  });

  it('the live view of a DAG with no container step never shows a set-up row', T, () => {
    const file = box.path('local-live.yaml');
    writeFileSync(file, 'steps:\n  - name: a\n    command: echo a\n  - name: b\n    command: echo b\n');
    const env: NodeJS.ProcessEnv = { ...box.env, TERM: 'xterm-256color' };
    delete env.NO_COLOR;
    const line = [process.execPath, BIN, 'run', file].map((a) => `'${a}'`).join(' ');
    const out = execFileSync('script', ['-qec', line, '/dev/null'], { cwd: ROOT, env, encoding: 'utf8' });
    assert.match(out, /run .*succeeded/);
    assert.doesNotMatch(out, /set-up/);
  });

  it('a step skipped by a precondition says which precondition', T, async () => {
    const file = box.path('skip.yaml');
    writeFileSync(file, ['steps:', '  - name: deploy', '    command: echo deploying', '    preconditions:', '      - condition: test -f /nonexistent/ready', ''].join('\n'));
    const reportFile = box.path('skip.json');
    const res = await runCli(['run', '--report', reportFile, file], box.env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /step deploy skipped: precondition not met: test -f \/nonexistent\/ready$/m);
    assert.equal(readJson<RunReport>(reportFile).steps[0]!.error, 'precondition not met: test -f /nonexistent/ready');
  });
});
