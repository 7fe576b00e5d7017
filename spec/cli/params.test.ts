// `--params` on the command line and `params:` in the file are split by one rule (Dagu's): the
// same text gives the same parameters either way.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunReport } from '../../lib/dag/report.js';
import { readJson, runCli, sandbox, type Sandbox } from './run-cli.js';

const T = { timeout: 60_000 };
const TEXT = `a "b c" K="x y" 'q r' Q="say \\"hi\\""`;
// Q is read from the environment: skiff splices $1… into the script, where a `"` would be the shell's.
const STEP = ['steps:', '  - name: show', '    command: printf "%s|" "$1" "$2" "$K" "$3" "$4"; printenv Q', ''].join('\n');

describe('params text', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  async function printed(file: string, args: string[]): Promise<string> {
    const reportFile = box.path(`${args.length}-report.json`);
    const res = await runCli(['run', '--report', reportFile, ...args, file], box.env);
    assert.equal(res.code, 0, res.stderr);
    return readFileSync(readJson<RunReport>(reportFile).steps[0]!.stdoutFile!, 'utf8');
  }

  it('the same text in params: and in --params gives the same parameters', T, async () => {
    const inFile = box.path('in-file.yaml');
    writeFileSync(inFile, `params: ${JSON.stringify(TEXT)}\n${STEP}`);
    const onCli = box.path('on-cli.yaml');
    writeFileSync(onCli, STEP);
    const expected = `a|b c|x y|'q|r'|say "hi"\n`;
    assert.equal(await printed(inFile, []), expected);
    assert.equal(await printed(onCli, ['--params', TEXT]), expected);
  });

  it('an unterminated quote is an error either way, saying so', T, async () => {
    const inFile = box.path('bad.yaml');
    writeFileSync(inFile, `params: 'a "b'\n${STEP}`);
    const fromFile = await runCli(['validate', inFile], box.env);
    assert.equal(fromFile.code, 2);
    assert.match(fromFile.stderr, /bad\.yaml:1:9: params: unterminated double quote in "a \\"b"/);
    const onCli = box.path('fine.yaml');
    writeFileSync(onCli, STEP);
    const fromCli = await runCli(['run', '--params', 'a "b', onCli], box.env);
    assert.equal(fromCli.code, 2);
    assert.match(fromCli.stderr, /--params: unterminated double quote in "a \\"b"/);
  });
});
