// The built Dag: names, dependencies (chain edges, parallel groups, graph and map forms),
// command forms, env/dotenv/params evaluation, step fields, executors and handlers.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDag, type Dag, type Step } from '../../lib/dag/index.js';
import { yaml } from '../support/dags.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const ENV = { HOME: '/home/tester', PATH: process.env.PATH ?? '/usr/bin:/bin', FROM_PROCESS: 'proc' };

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Write the DAG (and any extra files, relative to its directory) into a fresh temp dir. */
function writeDag(text: string, extra: Record<string, string> = {}, name = 'dag.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-build-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(extra)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const file = join(dir, name);
  writeFileSync(file, yaml(text));
  return file;
}

function load(text: string, opts: { params?: string[]; extra?: Record<string, string>; env?: NodeJS.ProcessEnv } = {}): Dag {
  return loadDag(writeDag(text, opts.extra), { env: opts.env ?? ENV, params: opts.params });
}

const step = (dag: Dag, name: string): Step => {
  const found = dag.steps.find((s) => s.name === name);
  assert.ok(found, `no step ${name} in ${dag.steps.map((s) => s.name).join(', ')}`);
  return found;
};
const depends = (dag: Dag) => Object.fromEntries(dag.steps.map((s) => [s.name, s.depends]));

describe('DAG basics', () => {
  it('names the DAG after the file unless name is set (trimmed)', () => {
    const file = writeDag('steps: [echo]\n', {}, 'nightly-backup.yaml');
    assert.equal(loadDag(file, { env: ENV }).name, 'nightly-backup');
    assert.equal(load('name: "  report  "\nsteps: [echo]\n').name, 'report');
  });

  it('records the absolute file and defaults the working dir to its directory', () => {
    const file = writeDag('steps: [echo]\n');
    const dag = loadDag(file, { env: ENV });
    assert.equal(dag.file, file);
    assert.equal(dag.dir, dirname(file));
    assert.equal(dag.steps[0]!.dir, dirname(file));
  });

  it('resolves workingDir: relative to the file, ~ to HOME, absolute as is', () => {
    const file = writeDag('workingDir: work/area\nsteps: [echo]\n');
    assert.equal(loadDag(file, { env: ENV }).dir, join(dirname(file), 'work/area'));
    assert.equal(load('workingDir: ~/jobs\nsteps: [echo]\n').dir, '/home/tester/jobs');
    assert.equal(load('workingDir: /srv/x\nsteps: [echo]\n').dir, '/srv/x');
  });

  it('has the documented defaults and reads the limits', () => {
    const plain = load('steps: [echo]\n');
    assert.deepEqual(
      [plain.type, plain.maxActiveSteps, plain.timeoutSec, plain.delaySec, plain.maxOutputSize, plain.maxCleanUpTimeSec],
      ['chain', 0, undefined, 0, 1024 * 1024, 5],
    );
    const set = load('type: graph\nmaxActiveSteps: 2\ntimeoutSec: 60\ndelaySec: 1\nmaxOutputSize: 100\nmaxCleanUpTimeSec: 9\nsteps: [echo]\n');
    assert.deepEqual([set.type, set.maxActiveSteps, set.timeoutSec, set.delaySec, set.maxOutputSize, set.maxCleanUpTimeSec], ['graph', 2, 60, 1, 100, 9]);
  });

  it('follows YAML merge keys', () => {
    const dag = load(`
      steps:
        - name: a
          <<: &defaults
            command: echo shared
            continueOn: failed
        - name: b
          <<: *defaults
    `);
    assert.deepEqual(step(dag, 'b').command, { form: 'shell', script: 'echo shared' });
    assert.equal(step(dag, 'b').continueOn.failure, true);
  });

  it('loads the example fixture', () => {
    const dag = loadDag(join(root, 'fixtures/dags/load/example.yaml'), { env: ENV });
    assert.deepEqual(dag.steps.map((s) => s.name), ['prepare', 'left', 'right', 'publish']);
    assert.deepEqual(depends(dag), { prepare: [], left: ['prepare'], right: ['prepare'], publish: ['left', 'right'] });
    assert.deepEqual(Object.keys(dag.handlerOn), ['failure', 'exit']);
    assert.deepEqual(dag.env, [
      ['GREETING', 'hello world'],
      ['LOUD', 'hello world!'],
    ]);
  });
});

describe('step names', () => {
  it('turns a string item into a shell command step named cmd_N', () => {
    const dag = load('steps:\n  - echo one\n  - echo two\n');
    assert.deepEqual(dag.steps.map((s) => [s.name, s.command]), [
      ['cmd_1', { form: 'shell', script: 'echo one' }],
      ['cmd_2', { form: 'shell', script: 'echo two' }],
    ]);
  });

  it('names docker steps docker_N, and container_N when the DAG has a container', () => {
    const dockerSteps = 'steps:\n  - executor: {type: docker, config: {image: alpine}}\n    command: echo\n  - echo local\n  - executor: shell\n    command: echo\n';
    assert.deepEqual(load(dockerSteps).steps.map((s) => s.name), ['docker_1', 'cmd_2', 'cmd_3']);
    const inContainer = load(`container:\n  image: alpine\n${dockerSteps}`);
    assert.deepEqual(inContainer.steps.map((s) => [s.name, s.executor.type]), [
      ['container_1', 'docker'],
      ['container_2', 'docker'],
      ['cmd_3', 'local'],
    ]);
  });

  it('bumps a generated name until it is unique', () => {
    const dag = load('steps:\n  - echo one\n  - name: cmd_3\n    command: echo\n  - echo three\n');
    assert.deepEqual(dag.steps.map((s) => s.name), ['cmd_1', 'cmd_3', 'cmd_4']);
  });

  it('trims names and keeps ids', () => {
    const dag = load('steps:\n  - name: "  build "\n    id: build_1\n    command: make\n');
    assert.equal(dag.steps[0]!.name, 'build');
    assert.equal(dag.steps[0]!.id, 'build_1');
  });
});

describe('ordering', () => {
  it('chains list steps and adds declared depends to the implicit edge', () => {
    const dag = load(`
      steps:
        - name: a
          command: echo
        - name: b
          command: echo
        - name: c
          command: echo
          depends: a
    `);
    assert.deepEqual(depends(dag), { a: [], b: ['a'], c: ['b', 'a'] });
  });

  it('makes a nested list a parallel group: members wait for the item before, the next item for all', () => {
    const dag = load(`
      steps:
        - name: start
          command: echo
        - - name: left
            command: echo
          - echo middle
          - name: right
            command: echo
        - name: end
          command: echo
    `);
    assert.deepEqual(depends(dag), { start: [], left: ['start'], cmd_3: ['start'], right: ['start'], end: ['left', 'cmd_3', 'right'] });
    assert.deepEqual(dag.steps.map((s) => s.name), ['start', 'left', 'cmd_3', 'right', 'end']);
  });

  it('lets an explicit empty depends opt out of the chain', () => {
    const dag = load(`
      steps:
        - name: a
          command: echo
        - name: b
          command: echo
          depends: []
        - name: c
          command: echo
    `);
    assert.deepEqual(depends(dag), { a: [], b: [], c: ['b'] });
  });

  it('uses only declared depends in graph mode, by name or id', () => {
    const dag = load(`
      type: graph
      steps:
        - name: fetch
          id: fetcher
          command: echo
        - name: build
          command: echo
        - name: ship
          command: echo
          depends: [fetcher, build]
    `);
    assert.deepEqual(depends(dag), { fetch: [], build: [], ship: ['fetch', 'build'] });
  });

  it('names map-form steps by their keys, with no implicit edges', () => {
    const dag = load(`
      steps:
        first:
          command: echo 1
        second:
          command: echo 2
        third:
          command: echo 3
          depends: first
    `);
    assert.deepEqual(depends(dag), { first: [], second: [], third: ['first'] });
  });
});

describe('commands', () => {
  it('keeps a string as a trimmed shell script, multi-line included', () => {
    const dag = load(`
      steps:
        - name: one
          command: "  echo a && echo b  "
        - name: multi
          command: |
            npm ci
            npm run build
    `);
    assert.deepEqual(step(dag, 'one').command, { form: 'shell', script: 'echo a && echo b' });
    assert.deepEqual(step(dag, 'multi').command, { form: 'shell', script: 'npm ci\nnpm run build' });
  });

  it('makes a list an exec argv, elements trimmed and non-strings formatted', () => {
    const dag = load('steps:\n  - name: a\n    command: [" echo ", "hello   world", 42, true, 1.5]\n');
    assert.deepEqual(dag.steps[0]!.command, { form: 'exec', argv: ['echo', 'hello   world', '42', 'true', '1.5'] });
  });

  it('makes script a shell script', () => {
    const dag = load('steps:\n  - name: a\n    script: |\n      echo x\n      echo y\n');
    assert.deepEqual(dag.steps[0]!.command, { form: 'shell', script: 'echo x\necho y\n' });
  });

  it('leaves a container step without a command', () => {
    const dag = load('container:\n  image: alpine\nsteps:\n  - name: a\n');
    assert.equal(dag.steps[0]!.command, undefined);
  });

  it('takes the step shell, else the DAG shell', () => {
    const dag = load('shell: bash\nsteps:\n  - name: a\n    command: echo\n  - name: b\n    shell: zsh\n    command: echo\n');
    assert.deepEqual([step(dag, 'a').shell, step(dag, 'b').shell], ['bash', 'zsh']);
  });
});

describe('env, dotenv and params', () => {
  it('evaluates env in order: a value sees earlier entries, params and the process env', () => {
    const dag = load(`
      params: "pos NAME=world"
      env:
        - A: one
        - B=\${A}-two
        - C: \${NAME}/\${1}/\${FROM_PROCESS}
        - D: "\`echo sub\`"
        - E: \${UNDEFINED_ANYWHERE}
      steps: [echo]
    `);
    assert.deepEqual(dag.env, [
      ['A', 'one'],
      ['B', 'one-two'],
      ['C', 'world/pos/proc'],
      ['D', 'sub'],
      ['E', '${UNDEFINED_ANYWHERE}'],
    ]);
  });

  it('accepts env as a map and keeps numbers as written', () => {
    const dag = load('env:\n  VERSION: 1.10\n  PORT: 8080\n  EMPTY:\n  FLAG: true\nsteps: [echo]\n');
    assert.deepEqual(dag.env, [
      ['VERSION', '1.10'],
      ['PORT', '8080'],
      ['EMPTY', ''],
      ['FLAG', 'true'],
    ]);
  });

  it('appends the default .env after env, so it overrides', () => {
    const dag = load('env:\n  - A: from-yaml\n  - B: kept\nsteps: [echo]\n', {
      extra: { '.env': '# comment\nA=from-dotenv\nexport C="quoted # not a comment"\nD=\'single ${A}\'\nE=${B}-x # trailing\n\n' },
    });
    assert.deepEqual(dag.env, [
      ['A', 'from-yaml'],
      ['B', 'kept'],
      ['A', 'from-dotenv'],
      ['C', 'quoted # not a comment'],
      ['D', 'single ${A}'],
      ['E', 'kept-x'],
    ]);
    assert.equal(Object.fromEntries(dag.env).A, 'from-dotenv');
  });

  it('reads only the first dotenv candidate that exists, against workingDir then the file dir', () => {
    const dag = load('workingDir: wd\ndotenv: [missing.env, one.env, two.env]\nsteps: [echo]\n', {
      extra: { 'one.env': 'FROM=file-dir\n', 'wd/one.env': 'FROM=working-dir\n', 'two.env': 'TWO=yes\n' },
    });
    assert.deepEqual(dag.env, [['FROM', 'working-dir']]);
    const fallback = load('workingDir: wd\ndotenv: one.env\nsteps: [echo]\n', { extra: { 'one.env': 'FROM=file-dir\n', 'wd/.keep': '' } });
    assert.deepEqual(fallback.env, [['FROM', 'file-dir']]);
  });

  it('reads no dotenv when none exists or the list is empty', () => {
    assert.deepEqual(load('steps: [echo]\n').env, []);
    assert.deepEqual(load('dotenv: []\nsteps: [echo]\n', { extra: { '.env': 'A=1\n' } }).env, []);
  });

  it('splits a params string: positional and named, double quotes honoured', () => {
    const dag = load('params: \'first "second value" NAME="a b" K=v\'\nsteps: [echo]\n');
    assert.deepEqual(dag.params, { positional: ['first', 'second value'], named: [['NAME', 'a b'], ['K', 'v']] });
  });

  it('accepts params as a list of strings and maps, or as a map', () => {
    assert.deepEqual(load('params:\n  - one\n  - X: 1.0\n  - Y=2\nsteps: [echo]\n').params, { positional: ['one'], named: [['X', '1.0'], ['Y', '2']] });
    assert.deepEqual(load('params:\n  A: a\n  B: 2\nsteps: [echo]\n').params, { positional: [], named: [['A', 'a'], ['B', '2']] });
  });

  it('lets CLI params override by name and by position, and appends new ones', () => {
    const dag = load('params: "p1 p2 A=file B=file"\nsteps: [echo]\n', { params: ['cli1', 'B=cli', 'C=new', 'cli2', 'cli3'] });
    assert.deepEqual(dag.params, {
      positional: ['cli1', 'cli2', 'cli3'],
      named: [['A', 'file'], ['B', 'cli'], ['C', 'new']],
    });
  });

  it('expands params at load, seeing earlier params (overrides included) and the process env', () => {
    const dag = load('params: "BASE=/data DIR=${BASE}/in WHO=${FROM_PROCESS} NOW=`echo now`"\nsteps: [echo]\n', { params: ['BASE=/cli'] });
    assert.deepEqual(dag.params.named, [
      ['BASE', '/cli'],
      ['DIR', '/cli/in'],
      ['WHO', 'proc'],
      ['NOW', 'now'],
    ]);
  });
});

describe('step fields', () => {
  it('keeps step env unexpanded, in order, in every shape', () => {
    const dag = load('steps:\n  - name: a\n    command: echo\n    env:\n      - X: ${Y}\n      - Z=1\n  - name: b\n    command: echo\n    env: {P: 0755}\n');
    assert.deepEqual(step(dag, 'a').env, [
      ['X', '${Y}'],
      ['Z', '1'],
    ]);
    assert.deepEqual(step(dag, 'b').env, [['P', '0755']]);
  });

  it('resolves a step workingDir (or dir) against the DAG working dir', () => {
    const dag = load('workingDir: /srv\nsteps:\n  - name: a\n    command: echo\n    workingDir: sub\n  - name: b\n    command: echo\n    dir: /abs\n  - name: c\n    command: echo\n    dir: ~/x\n');
    assert.deepEqual(dag.steps.map((s) => s.dir), ['/srv/sub', '/abs', '/home/tester/x']);
  });

  it('reads continueOn in both forms', () => {
    const dag = load(`
      steps:
        - name: a
          command: echo
          continueOn: FAILED
        - name: b
          command: echo
          continueOn: skipped
        - name: c
          command: echo
          continueOn: {exitCode: 3, output: done}
        - name: d
          command: echo
          continueOn: {failure: true, skipped: true, markSuccess: true, exitCode: [1, 2], output: ["x", "re:^y"]}
    `);
    assert.deepEqual(dag.steps.map((s) => s.continueOn), [
      { failure: true, skipped: false, exitCodes: [], output: [], markSuccess: false },
      { failure: false, skipped: true, exitCodes: [], output: [], markSuccess: false },
      { failure: false, skipped: false, exitCodes: [3], output: ['done'], markSuccess: false },
      { failure: true, skipped: true, exitCodes: [1, 2], output: ['x', 're:^y'], markSuccess: true },
    ]);
  });

  it('reads retryPolicy: backoff true is 2, strings are kept for run time', () => {
    const dag = load(`
      steps:
        - name: a
          command: echo
          retryPolicy: {limit: 3, intervalSec: 2, backoff: true, maxIntervalSec: 30, exitCode: [1, 75]}
        - name: b
          command: echo
          retryPolicy: {limit: "\${TRIES}", intervalSec: "5", backoff: 1.5}
        - name: c
          command: echo
          retryPolicy: {limit: 1, intervalSec: 0, exitCode: 9}
    `);
    assert.deepEqual(dag.steps.map((s) => s.retryPolicy), [
      { limit: 3, intervalSec: 2, exitCodes: [1, 75], backoff: 2, maxIntervalSec: 30 },
      { limit: '${TRIES}', intervalSec: 5, exitCodes: [], backoff: 1.5 },
      { limit: 1, intervalSec: 0, exitCodes: [9], backoff: 1 },
    ]);
  });

  it('reads preconditions of step and DAG in every shape', () => {
    const dag = load(`
      precondition: test -d /tmp
      steps:
        - name: a
          command: echo
          preconditions:
            - test -f x
            - condition: "\${DAY}"
              expected: monday
            - command: hostname
              expected: re:^build
              negate: true
            - condition: echo 1
              expected: 1
    `);
    assert.deepEqual(dag.preconditions, [{ condition: 'test -d /tmp', negate: false }]);
    assert.deepEqual(step(dag, 'a').preconditions, [
      { condition: 'test -f x', negate: false },
      { condition: '${DAY}', expected: 'monday', negate: false },
      { condition: 'hostname', expected: 're:^build', negate: true },
      { condition: 'echo 1', expected: '1', negate: false },
    ]);
  });

  it('drops the leading $ of output and keeps timeoutSec, signalOnStop, description', () => {
    const dag = load('steps:\n  - name: a\n    command: echo\n    output: $RESULT\n    timeoutSec: 30\n    signalOnStop: SIGINT\n    description: does a\n');
    const a = dag.steps[0]!;
    assert.deepEqual([a.output, a.timeoutSec, a.signalOnStop, a.description], ['RESULT', 30, 'SIGINT', 'does a']);
  });

  it('places each step at its list item', () => {
    const dag = load('steps:\n  - echo one\n  - name: two\n    command: echo\n');
    assert.deepEqual(dag.steps.map((s) => [s.place.line, s.place.col]), [
      [2, 5],
      [3, 5],
    ]);
  });
});

describe('executors', () => {
  it('keeps a docker step config as written, placed at the config', () => {
    const dag = load('steps:\n  - name: a\n    command: echo\n    executor:\n      type: docker\n      config:\n        image: alpine:3.19\n        autoRemove: true\n');
    const ex = dag.steps[0]!.executor;
    assert.equal(ex.type, 'docker');
    if (ex.type !== 'docker') return;
    assert.deepEqual(ex.config, { image: 'alpine:3.19', autoRemove: true });
    assert.deepEqual([ex.place.line, ex.place.col], [7, 9]);
  });

  it('treats container as an alias of docker, and shell/command/local as local', () => {
    const dag = load(`
      steps:
        - name: a
          command: echo
          executor: {type: container, config: {image: alpine}}
        - name: b
          command: echo
          executor: command
        - name: c
          command: echo
          executor: local
        - name: d
          command: echo
    `);
    assert.deepEqual(dag.steps.map((s) => s.executor.type), ['docker', 'local', 'local', 'local']);
  });

  it('runs steps without an executor in the DAG container, ignoring a docker step config (§4.8)', () => {
    const dag = load('container:\n  image: alpine\nsteps:\n  - name: a\n    command: echo\n  - name: b\n    command: echo\n    executor: {type: docker, config: {image: other}}\n');
    assert.deepEqual(
      dag.steps.map((s) => [s.executor.type, s.executor.type === 'docker' ? s.executor.config : 'local']),
      [
        ['docker', undefined],
        ['docker', undefined],
      ],
    );
    assert.equal(dag.container?.image, 'alpine');
  });
});

describe('handlers', () => {
  it('builds handlers as steps with default names and no depends; abort is cancel', () => {
    const dag = load(`
      steps: [echo]
      handlerOn:
        success:
          command: echo ok
        failure:
          name: alert
          command: echo fail
        abort:
          command: echo cancelled
        exit: {command: echo bye}
    `);
    const h = dag.handlerOn;
    assert.deepEqual(
      [h.success?.name, h.failure?.name, h.cancel?.name, h.exit?.name],
      ['onSuccess', 'alert', 'onCancel', 'onExit'],
    );
    assert.deepEqual(h.cancel?.command, { form: 'shell', script: 'echo cancelled' });
    assert.deepEqual([h.success?.depends, h.exit?.depends], [[], []]);
    assert.deepEqual(dag.steps.map((s) => s.name), ['cmd_1']);
  });
});
