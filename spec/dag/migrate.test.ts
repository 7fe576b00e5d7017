// `migrateText`: a 1.2x file rewritten as Dagu 2.x, in place: comments and key order kept,
// each construct mapped as docs/dagu-dialects.md §5 says, and what cannot be carried noted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { migrateText } from '../../lib/dag/index.js';
import { yaml } from '../support/dags.js';

const migrate = (text: string) => migrateText(yaml(text));

describe('migrateText', () => {
  it('keeps comments and key order while renaming keys', () => {
    const { text, notes } = migrate(`
      # the header
      name: build   # trailing
      maxActiveSteps: 2
      steps:
        # first step
        - name: compile
          command: make   # how
          workingDir: src
          continueOn:
            failure: true
            exitCode: [2]
          retryPolicy: {limit: 2, intervalSec: 5}
          timeoutSec: 30
    `);
    assert.equal(
      text,
      yaml(`
        # the header
        name: build # trailing
        max_active_steps: 2
        steps:
          # first step
          - name: compile
            run: make # how
            working_dir: src
            continue_on:
              failed: true
              exit_code: [ 2 ]
            retry_policy: { limit: 2, interval_sec: 5 }
            timeout_sec: 30
      `),
    );
    assert.deepEqual(notes, []);
  });

  it('a docker executor becomes action: docker.run with its config under with, the command moved in, run by sh as in skiff', () => {
    const { text } = migrate(`
      steps:
        - name: in-docker
          # runs in busybox
          executor:
            type: docker
            config:
              image: busybox
              containerName: named
              autoRemove: true
              host:
                binds: [/a:/b]
          command: echo hi
    `);
    assert.equal(
      text,
      yaml(`
        steps:
          - name: in-docker
            # runs in busybox
            action: docker.run
            with:
              image: busybox
              container_name: named
              auto_remove: true
              host:
                binds: [ /a:/b ]
              shell: [ /bin/sh ]
              command: echo hi
      `),
    );
  });

  it('a swarm executor becomes skiff\'s action: swarm.run, shaped as docker.run (maxConcurrent → max_concurrent)', () => {
    const { text, notes } = migrate(`
      steps:
        - name: fan
          executor:
            type: swarm
            config:
              image: busybox
              replicas: 4
              MaxConcurrent: 2
              placement: {constraints: [node.role==manager]}
          command: echo hi
    `);
    assert.equal(
      text,
      yaml(`
        steps:
          - name: fan
            action: swarm.run
            with:
              image: busybox
              replicas: 4
              max_concurrent: 2
              placement: { constraints: [ node.role==manager ] }
              shell: [ /bin/sh ]
              command: echo hi
      `),
    );
    assert.deepEqual(notes, []);
  });

  it('exec form on the host becomes action: exec; in a container, one quoted string that sh splits back', () => {
    const host = migrate('steps:\n  - name: a\n    command: [printf, "%s\\n", "two words"]\n');
    assert.equal(host.text, 'steps:\n  - name: a\n    action: exec\n    with:\n      command: printf\n      args: [ "%s\\n", "two words" ]\n');
    const docker = migrate('steps:\n  - name: a\n    executor: {type: docker, config: {image: busybox}}\n    command: [echo, "it\'s"]\n');
    assert.match(docker.text, /shell: \[ \/bin\/sh \], command: echo 'it'\\''s'/);
    assert.deepEqual(docker.notes, []);
  });

  it('a chain without depends says type: chain; with depends, the implicit edges are written out', () => {
    assert.match(migrate('steps:\n  - name: a\n    command: echo a\n  - name: b\n    command: echo b\n').text, /^type: chain\nsteps:/);
    const { text, notes } = migrate(`
      steps:
        - name: a
          command: echo a
        - command: echo b
        - name: c
          command: echo c
          depends: [a]
        - name: d
          command: echo d
          depends: []
    `);
    assert.equal(
      text,
      yaml(`
        type: graph
        steps:
          - name: a
            run: echo a
          - name: cmd_2
            run: echo b
            depends: [ a ]
          - name: c
            run: echo c
            depends: [ cmd_2, a ]
          - name: d
            run: echo d
      `),
    );
    assert.deepEqual(notes.map((n) => n.message), ['step had no name; named cmd_2 so that the next step can depend on it']);
  });

  it('handlers: handlerOn → handler_on, cancel → abort; a string step → run', () => {
    const { text } = migrate('steps:\n  - echo hi\nhandlerOn:\n  cancel:\n    command: echo bye\n');
    assert.equal(text, 'steps:\n  - run: echo hi\nhandler_on:\n  abort:\n    run: echo bye\n');
  });

  it('a compared condition that runs a command becomes eval; 1.2x aliases become 2.x keys', () => {
    const { text, notes } = migrate('precondition:\n  - command: "`date +%u`"\n    expected: "1"\nsteps:\n  - name: a\n    dir: /tmp\n    command: pwd\n');
    assert.equal(text, 'preconditions:\n  - eval: "`date +%u`"\n    expected: "1"\nsteps:\n  - name: a\n    working_dir: /tmp\n    run: pwd\n');
    assert.match(notes[0]!.message, /written as eval/);
  });

  it('says what it cannot carry: backticks in env, hyphens in ids', () => {
    const { notes } = migrate('env:\n  - TODAY: "`date`"\nsteps:\n  - name: a\n    id: build-it\n    command: echo\n');
    assert.deepEqual(
      notes.map((n) => [n.line, n.message.split(';')[0]]),
      [
        [2, 'env value runs a command in backticks'],
        [5, "Dagu 2.x step ids cannot hold '-': renamed build-it to build_it"],
      ],
    );
  });

  it('the DAG-level container block keys become snake_case; a docker step inside it loses its ignored config', () => {
    const { text, notes } = migrate(`
      container:
        image: busybox
        keepContainer: true
        workDir: /app
      steps:
        - name: a
          executor: {type: docker, config: {image: alpine}}
          command: pwd
    `);
    assert.equal(text, yaml(`
      container:
        image: busybox
        keep_container: true
        working_dir: /app
      steps:
        - name: a
          run: pwd
    `));
    assert.match(notes[0]!.message, /ignored in 1\.2x/);
  });

  it('refuses text that is not YAML', () => {
    assert.ok(migrateText('steps: [\n').errors.length > 0);
  });
});
