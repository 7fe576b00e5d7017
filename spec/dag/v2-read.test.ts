// Dagu 2.x files: how a file's dialect is told, what only 2.x refuses (Dagu's own messages), what
// it becomes in the one model the scheduler runs, and the warnings `skiff validate` prints.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DagLoadError, loadDag, loadDagWithWarnings, type Dag } from '../../lib/dag/index.js';
import { yaml } from '../support/dags.js';

const ENV = { HOME: '/home/tester', PATH: process.env.PATH ?? '/usr/bin:/bin', FROM_HOST: 'host' };
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function writeDag(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-v2-'));
  dirs.push(dir);
  const file = join(dir, 'dag.yaml');
  writeFileSync(file, yaml(text));
  return file;
}

const load = (text: string, params?: string[]): Dag => loadDag(writeDag(text), { env: ENV, params });

function problems(text: string): string[] {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof DagLoadError, String(err));
    return err.problems.map((p) => `${p.place.line}:${p.place.col}: ${p.message}`);
  }
  assert.fail('expected the DAG to fail to load');
}

describe('which dialect a file is read as', () => {
  it('a 1.2x file (camelCase, executor) is read as 1.2x: chain by default', () => {
    const dag = load(`
      steps:
        - name: a
          command: echo a
          continueOn: failed
        - name: b
          command: echo b
    `);
    assert.equal(dag.dialect, 'dagu-1.2x');
    assert.equal(dag.type, 'chain');
    assert.deepEqual(dag.steps[1]!.depends, ['a']);
  });

  it('a step with run makes it 2.x: graph by default, steps side by side', () => {
    const dag = load(`
      steps:
        - name: a
          run: echo a
        - name: b
          run: echo b
    `);
    assert.equal(dag.dialect, 'dagu-2');
    assert.equal(dag.type, 'graph');
    assert.deepEqual(dag.steps[1]!.depends, []);
  });

  it('a snake_case key alone makes it 2.x', () => {
    assert.equal(load('steps:\n  - name: a\n    command: echo a\n    timeout_sec: 5\n').dialect, 'dagu-2');
  });

  it('a stray snake_case key in a file with 1.2x-only keys is a typo of the 1.2x key, named with its spelling', () => {
    assert.deepEqual(problems('steps:\n  - name: a\n    command: echo\n    workingDir: /tmp\n    timeout_sec: 5\n'), [
      '5:5: step "a" has invalid key: timeout_sec; did you mean timeoutSec?',
    ]);
    assert.deepEqual(problems('steps:\n  - name: a\n    executor:\n      type: docker\n      config:\n        image: x\n        auto_remove: true\n    command: echo\n'), [
      '7:22: unknown key auto_remove in the docker executor config; did you mean autoRemove?',
    ]);
  });

  it('a 2.x-only step key still makes it 2.x beside a 1.2x-only key, and the refusal says which key', () => {
    assert.deepEqual(problems('steps:\n  - name: a\n    run: echo\n    workingDir: /tmp\n'), [
      '4:5: step "a" has invalid keys: workingDir; use snake_case keys (workingDir -> working_dir) (the file is read as Dagu 2.x because of steps[0].run)',
    ]);
  });

  it('keys inside env and the Docker blocks do not decide it', () => {
    const dag = load(`
      env:
        my_var: x
      steps:
        - name: a
          executor:
            type: docker
            config:
              image: busybox
              container:
                Labels: {my_label: x}
          command: echo a
    `);
    assert.equal(dag.dialect, 'dagu-1.2x');
  });

  it('one field spelled both ways is one error naming both spellings, at the second', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            run: echo a
            retryPolicy: {limit: 1, intervalSec: 1}
          - name: b
            run: echo b
            retry_policy: {limit: 1, interval_sec: 1}
      `),
      [
        '7:5: retry_policy and retryPolicy (at steps[0].retryPolicy) are two spellings of one field: write retry_policy everywhere (Dagu 2.x) or retryPolicy everywhere (Dagu 1.2x)',
        '7:30: interval_sec and intervalSec (at steps[0].retryPolicy.intervalSec) are two spellings of one field: write interval_sec everywhere (Dagu 2.x) or intervalSec everywhere (Dagu 1.2x)',
      ],
    );
  });
});

describe("Dagu 2.x's own refusals", () => {
  it('run with action, and run with command, with field and message as Dagu words them', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            run: echo a
            action: exec
          - name: b
            run: echo b
            command: echo b
      `),
      ["4:5: field 'action': run cannot be used together with action", "7:5: field 'command': run cannot be used together with command"],
    );
  });

  it('action with a legacy type, and with not a map', () => {
    assert.deepEqual(problems('steps:\n  - name: a\n    action: docker.run\n    type: docker\n    with: image\n'), [
      "4:5: field 'type': action cannot be used together with type",
      "5:5: field 'with': with must be an object",
    ]);
  });

  it('run only takes shell options in with; run must be text or a list', () => {
    assert.deepEqual(problems('steps:\n  - name: a\n    run: echo\n    with: {image: x}\n  - name: b\n    run: {x: 1}\n'), [
      `4:5: field 'with': run only supports shell, shell_args, and shell_packages in with; got "image"`,
      "6:5: field 'run': run must be a string or array",
    ]);
  });

  it('an unknown action, and the bare executor name docker, are unknown actions', () => {
    assert.deepEqual(problems('steps:\n  - name: a\n    action: docker\n  - name: b\n    action: http.request\n'), [
      '3:5: field \'action\': unknown action "docker"',
      "5:5: field 'action': action \"http.request\" is a Dagu 2.x action skiff does not run",
    ]);
  });

  it('with and config together', () => {
    assert.deepEqual(problems('steps:\n  - name: a\n    type: docker\n    with: {image: busybox}\n    config: {image: busybox}\n'), [
      `5:5: field 'config': fields "with" and "config" cannot be used together; use "with"`,
    ]);
  });

  it('executor has been removed; a camelCase key gets the snake_case hint', () => {
    assert.deepEqual(problems('steps:\n  - name: a\n    run: echo\n    executor: docker\n    signalOnStop: SIGINT\n'), [
      '4:5: "executor" has been removed; use "action" and pass executor options under "with" (the file is read as Dagu 2.x because of steps[0].run)',
      '5:5: step "a" has invalid keys: signalOnStop; use snake_case keys (signalOnStop -> signal_on_stop)',
    ]);
  });

  it('handler_on has abort, not cancel', () => {
    assert.deepEqual(problems('steps:\n  - name: a\n    run: echo\nhandler_on:\n  cancel:\n    run: echo\n'), ['5:3: handler_on has invalid keys: cancel; use abort']);
  });

  it('continue_on map keys are checked', () => {
    assert.deepEqual(problems('steps:\n  - name: a\n    run: echo\n    continue_on: {failed: true, sometimes: true}\n'), ['4:33: continue_on: unknown key "sometimes"']);
  });
});

describe('what a 2.x file becomes', () => {
  it('run is shell form run by sh -e on the host; a run list runs each entry in its own subshell', () => {
    const dag = load('steps:\n  - id: one\n    run: echo a\n  - id: many\n    run: [cd /tmp, pwd]\n');
    assert.deepEqual(dag.steps[0]!.command, { form: 'shell', script: 'echo a' });
    assert.equal(dag.steps[0]!.shell, '/bin/sh -e');
    assert.deepEqual(dag.steps[1]!.command, { form: 'shell', script: '(\ncd /tmp\n) && (\npwd\n)' });
  });

  it('a step without a name is named by its id', () => {
    const dag = load('steps:\n  - id: fetch\n    run: echo\n  - id: use\n    depends: fetch\n    run: echo\n');
    assert.deepEqual(dag.steps.map((s) => [s.name, s.id]), [['fetch', 'fetch'], ['use', 'use']]);
    assert.deepEqual(dag.steps[1]!.depends, ['fetch']);
  });

  it('action: exec is exec form; log.write prints its message', () => {
    const dag = load('steps:\n  - id: e\n    action: exec\n    with: {command: printf, args: ["%s", 7]}\n  - id: l\n    action: log.write\n    with: {message: hello}\n');
    assert.deepEqual(dag.steps[0]!.command, { form: 'exec', argv: ['printf', '%s', '7'] });
    assert.deepEqual(dag.steps[1]!.command, { form: 'exec', argv: ['printf', '%s\\n', 'hello'] });
  });

  it('action: docker.run with with: is the docker executor with the 1.2x config; its command is the step command', () => {
    const dag = load(`
      steps:
        - name: c
          action: docker.run
          with:
            image: busybox
            container_name: named
            auto_remove: true
            working_dir: /w
            volumes: [/a:/b]
            command: echo hi
    `);
    const step = dag.steps[0]!;
    assert.equal(step.executor.type, 'docker');
    assert.deepEqual(step.executor.type === 'docker' && step.executor.config, {
      image: 'busybox',
      containerName: 'named',
      autoRemove: true,
      container: { WorkingDir: '/w' },
      host: { Binds: ['/a:/b'] },
    });
    assert.deepEqual(step.command, { form: 'shell', script: 'echo hi' });
    assert.equal(step.shell, undefined, 'no host shell for a container step');
  });

  it('action: swarm.run (skiff\'s own) is the swarm executor, its with shaped as docker.run\'s; camelCase keys and what a swarm step cannot take are placed errors', () => {
    const dag = load(`
      type: graph
      steps:
        - name: fan
          action: swarm.run
          with:
            image: busybox
            replicas: 4
            max_concurrent: 2
            placement: {constraints: [node.role==manager]}
            working_dir: /w
            volumes: [/a:/b]
            command: echo hi
    `);
    const step = dag.steps[0]!;
    assert.equal(step.executor.type, 'swarm');
    assert.deepEqual(step.executor.type === 'swarm' && step.executor.config, {
      image: 'busybox',
      replicas: 4,
      maxConcurrent: 2,
      placement: { constraints: ['node.role==manager'] },
      container: { WorkingDir: '/w' },
      host: { Binds: ['/a:/b'] },
    });
    assert.deepEqual(step.command, { form: 'shell', script: 'echo hi' });
    assert.deepEqual(problems('steps:\n  - name: a\n    action: swarm.run\n    with: {image: busybox, maxConcurrent: 2, container_name: x, command: "true"}\n'), [
      '4:28: with has invalid keys: maxConcurrent; use snake_case keys (maxConcurrent -> max_concurrent) (the file is read as Dagu 2.x because of steps[0].action)',
    ]);
    assert.deepEqual(problems('steps:\n  - name: a\n    action: swarm.run\n    with: {image: busybox, command: "true"}\n    container: {image: busybox}\n'), [
      '5:5: container cannot be used together with swarm.run: a swarm step runs a service of its own (its image goes under with)',
    ]);
    assert.deepEqual(problems('steps:\n  - name: a\n    action: swarm.run\n    with: {image: busybox, container_name: x, command: "true"}\n'), [
      '4:44: container_name: exec into a running container is docker-only: a swarm step always runs as a new service',
    ]);
  });

  it('with.shell of a docker step may name sh (skiff runs the string with /bin/sh -c), nothing else', () => {
    const dag = load('steps:\n  - name: c\n    action: docker.run\n    with: {image: busybox, shell: [/bin/sh], command: echo a | tr a b}\n');
    assert.deepEqual(dag.steps[0]!.command, { form: 'shell', script: 'echo a | tr a b' });
    assert.deepEqual(problems('steps:\n  - name: c\n    action: docker.run\n    with: {image: busybox, shell: bash, command: echo}\n'), [
      `4:35: skiff runs a container's string command with /bin/sh -c; with.shell may only name sh (got "bash")`,
    ]);
  });

  it('a step-level container runs the step in its own container, removed unless kept', () => {
    const dag = load('steps:\n  - name: c\n    container:\n      image: busybox\n      env: {A: b}\n      keep_container: true\n    run: env\n');
    const ex = dag.steps[0]!.executor;
    assert.deepEqual(ex.type === 'docker' && ex.config, { image: 'busybox', autoRemove: false, container: { Env: ['A=b'] } });
  });

  it('consts are resolved at load, each seeing the ones before it; the rest stays as written', () => {
    const dag = load(`
      consts:
        - host: api
        - url: http://\${consts.host}/v1
        - early: \${consts.late}
        - late: x
      steps:
        - name: a
          run: echo \${consts.url} \${consts.early} \${consts.nope}
    `);
    // The reference a const held is escaped where it was inserted: no later pass resolves it.
    assert.deepEqual(dag.steps[0]!.command, { form: 'shell', script: 'echo http://api/v1 \\${consts.late} ${consts.nope}' });
  });

  it('consts must be a list of one-key maps', () => {
    assert.deepEqual(problems('consts: {a: 1}\nsteps:\n  - name: a\n    run: echo\n'), ['1:9: consts must be a list of single-key maps (- name: value)']);
  });

  it('rich params: a default binds the name, no default leaves it unbound; defaults are literal', () => {
    const dag = load('params:\n  - name: stage\n    default: prod\n  - name: copy\n    default: ${params.stage}\n  - name: unset\nsteps:\n  - name: a\n    run: echo\n');
    assert.deepEqual(dag.params.named, [['stage', 'prod'], ['copy', '${params.stage}']]);
  });

  it('env resolves ${env.X} and ${params.x} at load, and runs no backticks', () => {
    const dag = load('params:\n  - name: p\n    default: v\nenv:\n  - A=${params.p}\n  - B=${env.A}-$FROM_HOST\n  - C=`echo no`\nsteps:\n  - name: a\n    run: echo\n');
    assert.deepEqual(dag.env.slice(0, 3), [['A', 'v'], ['B', 'v-host'], ['C', '`echo no`']]);
  });

  it('eval preconditions are marked; condition and expected are kept as written', () => {
    const dag = load('steps:\n  - name: a\n    preconditions:\n      - eval: $(echo x)\n        expected: x\n      - condition: "`y`"\n        expected: "`y`"\n    run: echo\n');
    assert.deepEqual(
      dag.steps[0]!.preconditions.map((p) => [p.condition, p.expected, p.eval === true]),
      [['$(echo x)', 'x', true], ['`y`', '`y`', false]],
    );
  });
});

describe('deprecated 2.x syntax', () => {
  it('loads, with one warning per deprecated key, in file order', () => {
    const file = writeDag(`
      steps:
        - name: a
          command: echo a
        - name: b
          type: docker
          config: {image: busybox}
          command: echo b
      handler_on:
        failure:
          command: echo failed
    `);
    const { dag, warnings } = loadDagWithWarnings(file, { env: ENV });
    assert.equal(dag.dialect, 'dagu-2');
    assert.deepEqual(
      warnings.map((w) => `${w.place.line}: ${w.message}`),
      [
        '3: Deprecated DAG syntax: steps[0].command is deprecated; use run',
        '5: Deprecated DAG syntax: steps[1].type is deprecated; use action',
        '6: Deprecated DAG syntax: steps[1].config is deprecated; use with',
        '7: Deprecated DAG syntax: steps[1].command is deprecated; use run',
        '10: Deprecated DAG syntax: handler_on.failure.command is deprecated; use run',
      ],
    );
  });

  it('a 1.2x file and a file in the new syntax have no warnings', () => {
    assert.deepEqual(loadDagWithWarnings(writeDag('steps:\n  - name: a\n    command: echo\n'), { env: ENV }).warnings, []);
    assert.deepEqual(loadDagWithWarnings(writeDag('steps:\n  - name: a\n    run: echo\n'), { env: ENV }).warnings, []);
  });
});
