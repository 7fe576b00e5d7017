// A swarm step's config when the DAG loads (every problem with its place, docker-only keys and
// the DAG-level container named as such), and the service spec it becomes. No engine needed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DagLoadError, loadDag, dagJsonSchema } from '../../lib/dag/index.js';
import { normalizeSwarmStepConfig } from '../../lib/executors/swarm/config.js';
import { serviceSpec } from '../../lib/executors/swarm/spec.js';
import { yaml } from '../support/dags.js';

const ENV = { HOME: '/home/tester', PATH: process.env.PATH ?? '/usr/bin:/bin' };
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function write(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-swarm-load-'));
  dirs.push(dir);
  const file = join(dir, 'dag.yaml');
  writeFileSync(file, yaml(text));
  return file;
}

function problems(text: string): string[] {
  try {
    loadDag(write(text), { env: ENV });
  } catch (err) {
    assert.ok(err instanceof DagLoadError, String(err));
    return err.problems.map((p) => `${p.place.line}:${p.place.col}: ${p.path}: ${p.message}`);
  }
  return assert.fail('expected the DAG to fail to load');
}

describe('swarm step config at load', () => {
  it('a complete config loads, and the step is a swarm step without a command of its own', () => {
    const dag = loadDag(
      write(`
        steps:
          - name: job
            executor:
              type: swarm
              config:
                image: busybox
                platform: linux/amd64
                container: {env: {A: "1"}, workingDir: /w, user: nobody}
                host: {binds: ["/data:/data:ro"], memory: 1000000, nanoCpus: 500000000}
                resources: {reservations: {memoryBytes: 1000}}
                placement: {constraints: [node.role==worker], preferences: [{spread: node.labels.zone}]}
                replicas: 4
                maxConcurrent: 2
      `),
      { env: ENV },
    );
    assert.equal(dag.steps[0]!.executor.type, 'swarm');
    assert.equal(dag.steps[0]!.command, undefined);
  });

  it('every problem at its place: docker-only keys, unknown keys, counts, pull, platform, decoding', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: job
            executor:
              type: swarm
              config:
                image: busybox
                containerName: web
                autoRemove: true
                volumes: [a]
                replicas: 0
                maxConcurrent: many
                pull: sometimes
                platform: linux/nope
                host: {memory: lots, capAdd: [NET_ADMIN]}
      `),
      [
        "7:24: steps[0].executor.config.containerName: containerName: exec into a running container is docker-only: a swarm step always runs as a new service",
        "8:21: steps[0].executor.config.autoRemove: autoRemove: a swarm step's service is always removed when the step ends",
        '9:18: steps[0].executor.config.volumes: unknown key volumes in the swarm executor config (known: image, platform, pull, container, host, resources, placement, replicas, maxConcurrent)',
        '10:19: steps[0].executor.config.replicas: replicas must be a whole number of at least 1, got 0',
        '11:24: steps[0].executor.config.maxConcurrent: maxConcurrent must be a whole number of at least 1, got "many"',
        '12:15: steps[0].executor.config.pull: failed to parse pull policy as boolean: strconv.ParseBool: parsing "sometimes": invalid syntax',
        '13:19: steps[0].executor.config.platform: failed to parse platform linux/nope: "linux/nope": unknown operating system or architecture: invalid argument',
        "14:24: steps[0].executor.config.host.memory: failed to decode config: cannot parse 'host.memory' as int",
        '14:38: steps[0].executor.config.host.capAdd: unknown key host.capAdd (not a Docker HostConfig field)',
      ],
    );
  });

  it('placement constraints as the swarm reads them, each at its place: syntax, and keys no node would ever match', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: job
            executor:
              type: swarm
              config:
                image: busybox
                placement:
                  Constraints:
                    - node.role == manager
                    - node.labels.zone!=eu-1
                    - "Engine.Labels.disk==ssd"
                    - node.foo ~~ bar
                    - node.lables.zone==eu
                    - node.hostname == a<b
                    - "== x"
                    - "node.id==\${NODE}"
          - name: one
            executor: {type: swarm, config: {image: busybox, placement: {constraints: node.labels.==x}}}
      `),
      [
        '12:15: steps[0].executor.config.placement.Constraints[3]: invalid placement constraint "node.foo ~~ bar": expected <key>==<value> or <key>!=<value>',
        '13:15: steps[0].executor.config.placement.Constraints[4]: unknown key "node.lables.zone" in placement constraint "node.lables.zone==eu": no node would ever match it (known: node.id, node.hostname, node.ip, node.role, node.platform.os, node.platform.arch, node.labels.<label>, engine.labels.<label>)',
        '14:15: steps[0].executor.config.placement.Constraints[5]: invalid value "a<b" in placement constraint "node.hostname == a<b": letters, digits, spaces and : - _ . * ( ) ? + [ ] \\ ^ $ | / only',
        '15:15: steps[0].executor.config.placement.Constraints[6]: invalid key "" in placement constraint "== x": expected <key>==<value> or <key>!=<value>',
        '18:79: steps[1].executor.config.placement.constraints: unknown key "node.labels." in placement constraint "node.labels.==x": no node would ever match it (known: node.id, node.hostname, node.ip, node.role, node.platform.os, node.platform.arch, node.labels.<label>, engine.labels.<label>)',
      ],
    );
    assert.throws(
      () => normalizeSwarmStepConfig({ image: 'busybox', placement: { constraints: ['node.id=abc'] } }, { dir: '/d' }),
      /invalid placement constraint "node.id=abc": expected <key>==<value> or <key>!=<value>/,
    );
  });

  it('a swarm step needs an image and a config', () => {
    assert.deepEqual(
      problems(`
        steps:
          - name: a
            executor: {type: swarm, config: {container: {user: x}}}
          - name: b
            executor: swarm
            command: "true"
      `),
      [
        '3:37: steps[0].executor.config: image must be specified (a swarm step runs a new service from an image)',
        '5:15: steps[1].executor: executor config is required (a swarm step needs at least an image)',
      ],
    );
  });

  it('the DAG-level container block is docker-only: a swarm step beside it is refused at its place', () => {
    assert.deepEqual(
      problems(`
        container: {image: busybox}
        steps:
          - name: job
            executor: {type: swarm, config: {image: busybox}}
            command: "true"
      `),
      ['4:22: steps[0].executor.type: a swarm step cannot run in the DAG-level container (container: is docker-only): remove the container block, or use a docker step'],
    );
  });

  it('values known only when the step runs are checked then', () => {
    const dag = loadDag(write(`
      steps:
        - name: job
          executor: {type: swarm, config: {image: busybox, replicas: "\${N}", pull: "\${P}"}}
    `), { env: ENV });
    assert.throws(
      () => normalizeSwarmStepConfig({ ...(dag.steps[0]!.executor as { config: object }).config, replicas: 'x', pull: 'always' }, { dir: '/d' }),
      /replicas must be a whole number of at least 1, got "x"/,
    );
  });

  it('the published schema offers the swarm keys for a step config', () => {
    const text = JSON.stringify(dagJsonSchema());
    assert.match(text, /maxConcurrent/);
    assert.match(text, /placement/);
  });
});

describe('the service spec of a swarm step', () => {
  const config = normalizeSwarmStepConfig(
    {
      image: 'busybox',
      platform: 'linux/arm64',
      container: { env: ['A=1'], workingDir: '/w', user: 'nobody', entrypoint: ['/bin/sh'] },
      host: { binds: ['./data:/data:ro', 'cache:/cache'], memory: 1000, nanoCpus: 5, memoryReservation: 10 },
      resources: { reservations: { nanoCpus: 2 } },
      placement: { constraints: ['node.labels.skiff.placement==worker'], preferences: [{ spread: 'node.labels.zone' }] },
    },
    { dir: '/dags' },
  );
  const spec = serviceSpec({ config, image: 'busybox', step: 'My Step!', runId: '20261201T151738Z-6d0dea5f', serial: 2, args: ['-c', 'true'], labels: { 'dev.skiff.owner': 'skiff' }, stopSignal: 'SIGINT', graceSec: 7, replicas: 2 });
  const template = spec.TaskTemplate as Record<string, Record<string, unknown>>;

  it('runs each task once, as many as asked for', () => {
    assert.deepEqual(spec.Mode, { Replicated: { Replicas: 2 } });
    assert.deepEqual(template.RestartPolicy, { Condition: 'none', MaxAttempts: 0 });
    assert.equal(spec.Name, 'skiff-my-step-20261201T151738Z-6d0dea5f-2');
  });

  it('the container block, binds (relative ones against the DAG directory) and the stop', () => {
    assert.deepEqual(template.ContainerSpec, {
      Image: 'busybox',
      Labels: { 'dev.skiff.owner': 'skiff' },
      Command: ['/bin/sh'],
      Args: ['-c', 'true'],
      Env: ['A=1'],
      Dir: '/w',
      User: 'nobody',
      Mounts: [
        { Type: 'bind', Source: '/dags/data', Target: '/data', ReadOnly: true },
        { Type: 'volume', Source: 'cache', Target: '/cache', ReadOnly: false },
      ],
      StopSignal: 'SIGINT',
      StopGracePeriod: 7e9,
    });
  });

  it('resource limits and reservations, placement and platform', () => {
    assert.deepEqual(template.Resources, { Limits: { NanoCPUs: 5, MemoryBytes: 1000 }, Reservations: { MemoryBytes: 10, NanoCPUs: 2 } });
    assert.deepEqual(template.Placement, {
      Constraints: ['node.labels.skiff.placement==worker'],
      Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }],
      Platforms: [{ OS: 'linux', Architecture: 'arm64' }],
    });
  });
});
