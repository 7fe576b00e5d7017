// What people expect of any command line: no colour escapes in pipes, files, with NO_COLOR or
// TERM=dumb (a terminal still gets them); `skiff help [command]` and `skiff version`; usage
// lines that name option values; `validate` over several files.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, ROOT, fixture, runCli, sandbox, type Sandbox } from './run-cli.js';

const T = { timeout: 60_000 };
const ESC = '\x1b';

describe('CLI conventions', () => {
  let box: Sandbox;
  let plain: NodeJS.ProcessEnv;
  before(() => {
    box = sandbox();
    plain = { ...box.env };
    delete plain.NO_COLOR;
    delete plain.TERM;
  });
  after(() => box.cleanup());

  /** `skiff ARGS` on a pseudo-terminal (script(1)), as a user at a terminal runs it. */
  function onTerminal(args: string[], env: NodeJS.ProcessEnv): string {
    const line = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
    return execFileSync('script', ['-qec', line, '/dev/null'], { cwd: ROOT, env, encoding: 'utf8' });
  }

  it('help on a terminal is coloured; with NO_COLOR or TERM=dumb it is not', T, () => {
    assert.ok(onTerminal(['--help'], { ...plain, TERM: 'xterm-256color' }).includes(ESC), 'a colour terminal gets colour');
    assert.ok(!onTerminal(['--help'], { ...plain, TERM: 'xterm-256color', NO_COLOR: '1' }).includes(ESC), 'NO_COLOR');
    assert.ok(!onTerminal(['run', '--help'], { ...plain, TERM: 'dumb' }).includes(ESC), 'TERM=dumb');
  });

  it('`skiff --help | cat`, `skiff run --help > f` and a usage error carry no escape byte', T, async () => {
    const piped = await runCli(['--help'], plain);
    assert.equal(piped.code, 0);
    assert.match(piped.stdout, /skiff run/);
    assert.ok(!piped.stdout.includes(ESC), piped.stdout);

    const file = box.path('help.txt');
    const out = spawnSync(process.execPath, [BIN, 'run', '--help'], { cwd: ROOT, env: plain, stdio: ['ignore', 'pipe', 'pipe'] });
    writeFileSync(file, out.stdout);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /--report <file>/);
    assert.ok(!text.includes(ESC), text);

    const usage = await runCli(['run', '--no-such-option', 'x.yaml'], plain);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /Unsupported option name \("--no-such-option"\)/);
    assert.ok(!usage.stderr.includes(ESC) && !usage.stdout.includes(ESC), usage.stderr);
  });

  it('usage lines name option values instead of #0', T, async () => {
    const res = await runCli(['run'], plain);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /\[--params,-p <params>\] \[--report <file>\]/);
    assert.match(res.stderr, /\[--record <dir>\] \[--replay <dir>\]/);
    assert.doesNotMatch(res.stderr, /#0/);
  });

  it('`skiff help` lists the commands; `skiff help run` is `skiff run --help`; an unknown one exits 2', T, async () => {
    const all = await runCli(['help'], plain);
    assert.equal(all.code, 0);
    assert.equal(all.stdout, (await runCli(['--help'], plain)).stdout);
    const run = await runCli(['help', 'run'], plain);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, (await runCli(['run', '--help'], plain)).stdout);
    assert.match(run.stdout, /--params,-p <params>/);
    const unknown = await runCli(['help', 'nope'], plain);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "nope"; the commands are: run, validate/);
  });

  it('`skiff version` prints the version, as --version does', T, async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const res = await runCli(['version'], plain);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `${version}\n`);
  });

  it('validate takes several files: each reported, exit 2 when one is invalid', T, async () => {
    const ok = await runCli(['validate', fixture('ok.yaml'), fixture('fail.yaml')], plain);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `${fixture('ok.yaml')}: ok (3 steps)\n${fixture('fail.yaml')}: ok (3 steps)\n`);
    const mixed = await runCli(['validate', fixture('ok.yaml'), fixture('broken-type.yaml'), fixture('fail.yaml')], plain);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stdout, /ok\.yaml: ok[\s\S]*fail\.yaml: ok/);
    assert.match(mixed.stderr, /broken-type\.yaml:5:17: /);
  });
});
