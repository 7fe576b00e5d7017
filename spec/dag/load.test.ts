// Load-time problems: YAML syntax, keys, types and cross-field rules, each reported with its
// exact message and `line:col`, all of them together in one DagLoadError.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DagLoadError, loadDag, type Dag } from '../../lib/dag/index.js';
import { yaml } from '../support/dags.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = (name: string) => join(root, 'fixtures/dags/load', name);
const ENV = { HOME: '/home/tester', PATH: process.env.PATH ?? '/usr/bin:/bin' };

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function writeDag(text: string, name = 'dag.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-load-'));
  dirs.push(dir);
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function loadError(file: string, opts: { params?: string[] } = {}): DagLoadError {
  try {
    loadDag(file, { env: ENV, ...opts });
  } catch (err) {
    assert.ok(err instanceof DagLoadError, `expected a DagLoadError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the DAG to fail to load');
}

/** `line:col: message` for each problem, in report order. */
function problems(text: string): string[] {
  return loadError(writeDag(yaml(text))).problems.map((p) => `${p.place.line}:${p.place.col}: ${p.message}`);
}

function load(text: string): Dag {
  return loadDag(writeDag(yaml(text)), { env: ENV });
}

describe('YAML syntax and file shape', () => {
  it('reports a key indented under a value at its own line, as what to do, without a stack', () => {
    const err = loadError(fixture('bad-indent.yaml'));
    assert.equal(err.problems.length, 1);
    const message = 'invalid YAML: this line is indented deeper than the keys above it, so YAML reads it as part of the value before it: line it up with those keys';
    assert.deepEqual(err.problems[0], { path: '', message, place: { file: fixture('bad-indent.yaml'), line: 4, col: 6 } });
    assert.equal(err.message, `${fixture('bad-indent.yaml')}:4:6: ${message}`);
    assert.doesNotMatch(err.message, /\n\s+at /);
  });

  it('reports a list item written at the wrong indentation', () => {
    assert.deepEqual(problems('steps:\n  - name: a\n   command: echo\n'), ['3:1: invalid YAML: this line does not line up with the ones above it: indent a key like the other keys of its mapping, and start a list item with "- "']);
  });

  it('reports tabs used as indentation', () => {
    assert.deepEqual(problems('steps:\n\t- echo hi\n'), ['2:1: invalid YAML: YAML is indented with spaces, not tabs: replace the tab at the start of this line with spaces']);
  });

  it('reports a duplicated key by name', () => {
    assert.deepEqual(problems('name: a\nname: b\nsteps: [echo]\n'), ['2:1: invalid YAML: "name" is given twice in the same mapping: keep one of them']);
  });

  it('reports an empty file and a file of comments only', () => {
    assert.deepEqual(problems(''), ['1:1: DAG file is empty']);
    assert.deepEqual(problems('# nothing here\n'), ['1:1: DAG file is empty']);
  });

  it('reports a top level that is not a map', () => {
    assert.deepEqual(problems('- echo hi\n'), ['1:1: DAG file must be a map of keys, got list']);
    assert.deepEqual(problems('just text\n'), ['1:1: DAG file must be a map of keys, got string']);
  });

  it('reports a missing file as a load problem, not a raw error', () => {
    const err = loadError(join(tmpdir(), 'skiff-no-such-dir', 'missing.yaml'));
    assert.deepEqual(err.problems.map((p) => p.message), ['cannot read DAG file: no such file']);
    assert.equal(err.kind, 'config');
  });

  it('reports a DAG without steps', () => {
    assert.deepEqual(problems('name: nothing\n'), ['1:1: at least one step must be specified']);
    assert.deepEqual(problems('steps: []\n'), ['1:8: at least one step must be specified']);
  });
});

describe('keys', () => {
  it('matches keys case-insensitively', () => {
    const dag = load(`
      Name: mixed
      STEPS:
        - NAME: a
          Command: echo a
          ContinueOn: failed
        - name: b
          continueon: skipped
          COMMAND: echo b
    `);
    assert.equal(dag.name, 'mixed');
    assert.deepEqual(dag.steps.map((s) => s.name), ['a', 'b']);
    assert.equal(dag.steps[0]!.continueOn.failure, true);
    assert.equal(dag.steps[1]!.continueOn.skipped, true);
  });

  it('reports an unknown step key at the key, naming the step', () => {
    const file = writeDag('steps:\n  - name: build\n    command: make\n    foo: bar\n');
    const err = loadError(file);
    assert.deepEqual(err.problems, [{ path: 'steps[0].foo', message: 'step "build" has invalid key: foo', place: { file, line: 4, col: 5 } }]);
    assert.equal(err.message, `${file}:4:5: step "build" has invalid key: foo`);
  });

  it('reads a file with snake_case keys as Dagu 2.x, where continue_on is known and args is not', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: build
            command: make
            continue_on: failed
            args: [all]
      `),
      ['5:5: step "build" has invalid keys: args'],
    );
  });

  it('reports unknown keys at DAG level, in handlerOn, retryPolicy and of unnamed steps', () => {
    assert.deepEqual(
      problems(`
        nmae: typo
        steps:
          - command: make
            retryPolicy: {limit: 1, intervalSec: 1, tries: 3}
        handlerOn:
          sucess:
            command: echo ok
      `),
      [
        '1:1: DAG has invalid key: nmae; did you mean name?',
        '4:45: steps[0] retryPolicy has invalid key: tries',
        '6:3: handlerOn has invalid key: sucess; did you mean success?',
      ],
    );
  });

  it('reports two spellings of one key', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            command: echo 1
            Command: echo 2
      `),
      ['4:5: step "a" has duplicate key: Command (same as command)'],
    );
  });

  it('matches executor keys exactly', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            command: echo
            executor:
              Type: docker
              config: {image: alpine}
      `),
      ['5:7: step "a" executor has invalid key: Type; did you mean type?', '5:7: steps[0].executor is missing required key: type'],
    );
  });

  it('refuses unknown keys of the continueOn map, matched exactly (Dagu ignores them: a typo then aborts the run downstream)', () => {
    assert.deepEqual(
      problems('steps:\n  - name: a\n    command: exit 3\n    continueOn:\n      Failure: true\n      exitCode: [3]\n      failed: true\n'),
      ['5:7: step "a" continueOn has invalid key: Failure; did you mean failure?', '7:7: step "a" continueOn has invalid key: failed; did you mean failure?'],
    );
    const dag = load(`
      steps:
        - name: a
          command: exit 3
          continueOn:
            failure: true
            exitCode: [3]
    `);
    assert.deepEqual(dag.steps[0]!.continueOn, { failure: true, skipped: false, exitCodes: [3], output: [], markSuccess: false });
  });

  it('accepts and ignores the scheduling, history and mail keys', () => {
    const dag = load(`
      tags: [nightly]
      schedule: "0 1 * * *"
      group: ops
      logDir: /tmp/logs
      histRetentionDays: 3
      mailOn: {failure: true}
      smtp: {host: mail}
      maxActiveRuns: 1
      skipIfSuccessful: true
      description: ignored too
      steps:
        - name: a
          command: echo
          mailOnError: true
    `);
    assert.deepEqual(dag.steps.map((s) => s.name), ['a']);
  });
});

describe('types', () => {
  it('reports a wrong type with the key path and both types', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            command: echo
            timeoutSec: "10"
      `),
      ['4:17: steps[0].timeoutSec: expected integer, got string'],
    );
  });

  it('names every allowed type of a union', () => {
    assert.deepEqual(
      problems(`
        env: 5
        steps:
          - name: a
            command: echo
            depends: {b: 1}
          - 42
      `),
      [
        '1:6: env: expected map or list, got integer',
        '5:14: steps[0].depends: expected string or list, got map',
        '6:5: steps[1]: expected string, map or list, got integer',
      ],
    );
  });

  it('points into lists at the element that is wrong', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            command: echo
            depends: [b, 7]
          - name: b
            command: [echo, [x]]
      `),
      ['4:18: steps[0].depends[1]: expected string, got integer', '6:21: steps[1].command[1]: expected string, number or boolean, got list'],
    );
  });

  it('keeps the key spelling of the file in the reported path', () => {
    assert.deepEqual(problems('Steps:\n  - Name: a\n    Command: echo\n    TimeoutSec: yes\n'), ['4:17: Steps[0].TimeoutSec: expected integer, got string']);
  });

  it('reports an invalid DAG type at its value', () => {
    assert.deepEqual(problems('type: tree\nsteps: [echo]\n'), ['1:7: invalid type: tree (must be one of: graph, chain)']);
  });

  it('reports a negative timeoutSec for DAG and step', () => {
    assert.deepEqual(
      problems(`
        timeoutSec: -5
        steps:
          - name: a
            command: echo
            timeoutSec: -1
      `),
      ['1:13: timeoutSec: must be >= 0, got -5', '5:17: steps[0].timeoutSec: must be >= 0, got -1'],
    );
  });

  it('reports an invalid step id', () => {
    assert.deepEqual(problems('steps:\n  - name: a\n    id: 1st\n    command: echo\n'), ['3:9: invalid id: 1st (must match ^[a-zA-Z][a-zA-Z0-9_-]*$)']);
  });
});

describe('continueOn and retryPolicy', () => {
  it('rejects a continueOn string other than failed or skipped', () => {
    assert.deepEqual(
      problems('steps:\n  - name: a\n    command: echo\n    continueOn: sometimes\n'),
      ['4:17: invalid continueOn value: sometimes (must be failed or skipped)'],
    );
  });

  it('rejects non-boolean flags and non-integer exit codes in the continueOn map', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            command: echo
            continueOn:
              markSuccess: "yes"
              exitCode: [1, two]
      `),
      ['5:20: steps[0].continueOn.markSuccess: expected boolean, got string', '6:21: steps[0].continueOn.exitCode[1]: expected integer, got string'],
    );
  });

  it('requires both limit and intervalSec', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            command: echo
            retryPolicy:
              limit: 3
      `),
      ['5:7: steps[0].retryPolicy is missing required key: intervalSec'],
    );
  });

  it('rejects a backoff of 1 or less, and limits that are neither integers nor strings', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            command: echo
            retryPolicy: {limit: 2, intervalSec: 1, backoff: 1}
          - name: b
            command: echo
            retryPolicy: {limit: true, intervalSec: 1, backoff: 0.5}
      `),
      [
        '4:54: steps[0].retryPolicy.backoff: must be greater than 1, got 1',
        '7:26: steps[1].retryPolicy.limit: expected integer or string, got boolean',
        '7:57: steps[1].retryPolicy.backoff: must be greater than 1, got 0.5',
      ],
    );
  });
});

describe('steps: names, commands, executors, references', () => {
  it('requires unique step names shorter than 40 characters', () => {
    const long = 'x'.repeat(40);
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            command: echo 1
          - name: " a "
            command: echo 2
          - name: ${long}
            command: echo 3
      `),
      ['4:11: step name must be unique: a', `6:11: step name must be less than 40 characters: ${long}`],
    );
  });

  it('reports an empty command, and a local step with nothing to run', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            command: "  "
          - name: b
            command: []
          - name: c
            description: no command
      `),
      ['3:14: step command is empty', '5:14: step command is empty', '6:5: step command is required'],
    );
  });

  it('rejects command and script together', () => {
    assert.deepEqual(
      problems('steps:\n  - name: a\n    command: python3\n    script: print(1)\n'),
      ['4:13: step has both command and script; use one of them'],
    );
  });

  it('reports a dependency on a missing step at the reference', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            command: echo
          - name: b
            command: echo
            depends: [a, nope]
      `),
      ['6:18: step b depends on non-existent step nope'],
    );
  });

  it('requires a config for a docker step without a DAG-level container', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            executor: docker
            command: echo
          - name: b
            executor: {type: container}
            command: echo
      `),
      ['3:15: executor config is required', '6:15: executor config is required'],
    );
  });

  it('does not require a docker config when the DAG has a container block', () => {
    const dag = load(`
      container:
        image: alpine:3.19
      steps:
        - name: a
          executor: docker
          command: echo
    `);
    const ex = dag.steps[0]!.executor;
    assert.equal(ex.type, 'docker');
    assert.equal(ex.type === 'docker' ? ex.config : 'not docker', undefined);
  });

  it('rejects unsupported executor types and a config that is not a map', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            executor: ssh
            command: echo
          - name: b
            executor: {type: docker, config: alpine}
            command: echo
      `),
      ['3:15: unsupported executor type: ssh (supported: docker, container, swarm, command, shell, local)', '6:38: steps[1].executor.config: expected map, got string'],
    );
  });

  it('rejects an env list entry that is not KEY=value', () => {
    assert.deepEqual(
      problems('env:\n  - JUSTANAME\nsteps: [echo]\n'),
      ['2:5: env config should be map of strings or array of key=value formatted string (got "JUSTANAME")'],
    );
  });

  it('reports a failing backtick substitution in env at its value', () => {
    const found = problems('env:\n  - BROKEN: "`exit 3`"\nsteps: [echo]\n');
    assert.deepEqual(found, ['2:13: command substitution `exit 3` failed']);
  });

  it('reports an unterminated quote in params', () => {
    assert.deepEqual(problems('params: \'a "b c\'\nsteps: [echo]\n'), ['1:9: params: unterminated double quote in "a \\"b c"']);
  });

  it('reports a bad dotenv line at its place in the dotenv file', () => {
    const file = writeDag('dotenv: vars.env\nsteps: [echo]\n');
    writeFileSync(join(dirname(file), 'vars.env'), 'A=1\nnot a pair\n');
    const err = loadError(file);
    assert.deepEqual(err.problems, [
      { path: 'dotenv', message: `dotenv ${join(dirname(file), 'vars.env')}: line 2 is not KEY=value`, place: { file: join(dirname(file), 'vars.env'), line: 2, col: 1 } },
    ]);
  });

  it('rejects an unknown signalOnStop', () => {
    assert.deepEqual(problems('steps:\n  - name: a\n    command: sleep 9\n    signalOnStop: SIGNOPE\n'), [
      '4:19: invalid signalOnStop: SIGNOPE (must be a signal name such as SIGTERM)',
    ]);
  });
});

describe('cycles', () => {
  it('names the cycle at its first step', () => {
    assert.deepEqual(
      problems(`
        type: graph
        steps:
          - name: a
            command: echo
            depends: b
          - name: b
            command: echo
            depends: a
      `),
      ['3:5: dependency cycle: a -> b -> a'],
    );
  });

  it('finds a cycle made by a chain edge and a declared dependency on a later step', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: first
            command: echo
            depends: second
          - name: second
            command: echo
      `),
      ['2:5: dependency cycle: first -> second -> first'],
    );
  });

  it('reports a step that depends on itself', () => {
    assert.deepEqual(problems('type: graph\nsteps:\n  - name: a\n    command: echo\n    depends: a\n'), ['3:5: dependency cycle: a -> a']);
  });
});

describe('all problems at once', () => {
  it('reports every problem of a file in one error, in file order', () => {
    const file = fixture('several-problems.yaml');
    const err = loadError(file);
    assert.deepEqual(
      err.problems.map((p) => [p.path, `${p.place.line}:${p.place.col}`, p.message]),
      [
        ['type', '1:7', 'invalid type: tree (must be one of: graph, chain)'],
        ['steps[0].timeoutSec', '5:17', 'steps[0].timeoutSec: expected integer, got string'],
        ['steps[0].args', '6:5', 'step "build" has invalid key: args'],
        ['steps[1].depends[0]', '8:15', 'step test depends on non-existent step compile'],
        ['steps[1].command', '9:14', 'step command is empty'],
      ],
    );
    assert.equal(err.message.split('\n').length, 5);
    assert.equal(err.message.split('\n')[0], `${file}:1:7: invalid type: tree (must be one of: graph, chain)`);
    assert.deepEqual(err.place, { file, line: 1, col: 7 });
  });
});
