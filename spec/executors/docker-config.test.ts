import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { parse } from 'yaml';
import { Compile } from 'typebox/compile';
import type { Place } from '../../lib/common/errors.js';
import { isSkiffError } from '../../lib/common/errors.js';
import { formatPath, type Locate } from '../../lib/common/problem.js';
import { CONTAINER_CONFIG, HOST_CONFIG, fieldName } from '../../lib/executors/docker/keys.js';
import { camelSpelling, caseInsensitivePattern } from '../../lib/executors/docker/key-schemas.js';
import {
  DockerStepConfigSchema,
  checkDockerStepConfig,
  normalizeDockerStepConfig,
  normalizePlatform,
  type NormalizedDockerConfig,
} from '../../lib/executors/docker/config.js';

// A place that encodes the relative path it was asked for, so tests can check where problems point.
const placeOf = (path: ReadonlyArray<string | number>): Place => ({ file: `dag.yaml#${JSON.stringify(path)}`, line: 1, col: 1 });
const locate: Locate = (path) => placeOf(path);
const CONFIG = 'steps[0].executor.config';
const DIR = '/dags/project';

function check(raw: unknown) {
  return checkDockerStepConfig(raw, locate, { path: CONFIG });
}
function messages(raw: unknown): string[] {
  return check(raw).map((p) => p.message);
}
function normalize(raw: unknown, dir = DIR): NormalizedDockerConfig {
  return normalizeDockerStepConfig(raw, { dir });
}
function normalizeError(raw: unknown): string {
  try {
    normalize(raw);
  } catch (err) {
    assert.ok(isSkiffError(err, 'config'), `expected a config SkiffError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('normalizeDockerStepConfig did not throw');
}

let compiled: ReturnType<typeof Compile> | undefined;
function schemaValidator(): ReturnType<typeof Compile> {
  compiled ??= Compile(DockerStepConfigSchema);
  return compiled;
}

// ---------------------------------------------------------------------------------------------
// Every step config of the seeds

/** examples/seed-000, each `executor.config` under its step name. */
const SEED_000 = parse(`
hello: {image: alpine, autoRemove: true}
exec-in-existing:
  containerName: "my-running-container"
  autoRemove: true
  exec:
    user: root
    workingDir: /app
pull-always: {image: node:latest, pull: always, autoRemove: true}
pull-if-missing: {image: python:3.11, pull: missing, autoRemove: true}
never-pull: {image: my-local-image, pull: never, autoRemove: true}
specific-platform: {image: alpine, platform: linux/amd64, autoRemove: true}
with-env:
  image: alpine
  autoRemove: true
  container:
    env:
      - APP_ENV=production
      - API_KEY=\${HOST_ENV}  # Pass from host
      - DEBUG=true
with-volumes:
  image: python:3.11
  autoRemove: true
  host:
    binds:
      - /host/data:/container/data:ro      # Read-only mount
      - /host/output:/container/output:rw   # Read-write mount
      - ./app:/app                          # Relative path
working-dir:
  image: node:18
  autoRemove: true
  container:
    workingDir: /usr/src/app
  host:
    binds:
      - ./src:/usr/src/app
named-container: {image: nginx, containerName: my-nginx-server, autoRemove: false}
custom-network:
  image: alpine
  autoRemove: true
  network:
    EndpointsConfig:
      my-network:
        Aliases:
          - my-service
          - api-server
host-network:
  image: nginx
  autoRemove: true
  host:
    networkMode: host
resource-limits:
  image: stress
  autoRemove: true
  host:
    cpuShares: 512
    memory: 536870912  # 512MB in bytes
security-options:
  image: alpine
  autoRemove: true
  host:
    capAdd:
      - SYS_ADMIN
    capDrop:
      - MKNOD
    privileged: false
    readonlyRootfs: true
run-as-user:
  image: alpine
  autoRemove: true
  container:
    user: "1000:1000"  # UID:GID
exec-example:
  containerName: "my-app"
  exec:
    user: appuser
    workingDir: /app/data
    env:
      - TASK=cleanup
dynamic-exec:
  containerName: \${CONTAINER_NAME}
  exec:
    user: root
extract-data:
  image: python:3.11-slim
  autoRemove: true
  host:
    binds:
      - ./data:/data
      - ./scripts:/scripts
  container:
    env:
      - PYTHONPATH=/scripts
transform-data:
  image: apache/spark:3.4.0
  autoRemove: true
  host:
    binds:
      - ./data:/data
    memory: 2147483648  # 2GB
load-data:
  image: postgres:15
  autoRemove: true
  container:
    env:
      - PGPASSWORD=\${DB_PASSWORD}
  network:
    endpointsConfig:
      db-network: {}
build-frontend:
  image: node:18-alpine
  autoRemove: true
  host:
    binds:
      - ./frontend:/app
  container:
    workingDir: /app
build-backend:
  image: golang:1.21
  autoRemove: true
  host:
    binds:
      - ./backend:/app
  container:
    workingDir: /app
    env:
      - CGO_ENABLED=0
      - GOOS=linux
package-app:
  image: docker:dind
  autoRemove: true
  host:
    binds:
      - /var/run/docker.sock:/var/run/docker.sock
      - .:/workspace
  container:
    workingDir: /workspace
backup-database:
  image: mysql:8.0
  autoRemove: true
  container:
    env:
      - MYSQL_PWD=\${DB_PASSWORD}
  host:
    binds:
      - ./backups:/backups
compress-backup:
  image: alpine
  autoRemove: true
  host:
    binds:
      - ./backups:/backups
docker-in-docker:
  image: docker:latest
  autoRemove: true
  host:
    binds:
      - /var/run/docker.sock:/var/run/docker.sock
remote-docker: {image: alpine, autoRemove: true}
handle-exit-codes: {image: alpine, autoRemove: true}
with-cleanup:
  image: busybox
  containerName: temp-processor
  autoRemove: true  # Always remove, even on failure
use-cache:
  image: my-app:latest
  pull: missing  # Use cached image if available
  autoRemove: true
efficient-build:
  image: docker:latest
  autoRemove: true
  host:
    binds:
      - /var/run/docker.sock:/var/run/docker.sock
      - .:/app
`) as Record<string, Record<string, unknown>>;

/** examples/seed-001, its step-level configs. */
const SEED_001 = parse(`
hello: {image: alpine, autoRemove: true}
reference:
  # Provide at least one of the following (see fallback note below):
  image: alpine:latest # Create a new container from this image
  # containerName: my-running-container # Exec into (and optionally create) this container
  # Image pull behavior (string or boolean)
  pull: missing # always | missing | never (true->always, false->never)
  # Remove container after step finishes (for new containers)
  autoRemove: true
  # Target platform for pulling/creating the image
  platform: linux/amd64
  # Low-level Docker configs (passed through to Docker API)
  container: {} # container.Config (env, workingDir, user, exposedPorts, etc.)
  host: {} # hostConfig (binds, portBindings, devices, restartPolicy, etc.)
  network: {} # networkingConfig (endpoints, aliases, etc.)
  # Exec options when using an existing container (containerName)
  exec: # docker ExecOptions (when targeting an existing container)
    user: root
    workingDir: /work
    env: ["DEBUG=1"]
docker-hub: {image: myorg/processor:latest}
ghcr: {image: ghcr.io/myorg/analyzer:v2}
gcr: {image: gcr.io/myproject/reporter:stable}
`) as Record<string, Record<string, unknown>>;

/** What the step sees when it starts (the seeds' DAG env and a few secrets). */
const SEED_VARS: Record<string, string> = {
  HOST_ENV: 'production',
  CONTAINER_NAME: 'production-app',
  DB_PASSWORD: 's3cret',
};
function expandLeaves(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\$\{(\w+)\}/g, (_m, name: string) => SEED_VARS[name] ?? '');
  if (Array.isArray(value)) return value.map(expandLeaves);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandLeaves(v)]));
  return value;
}

describe('seed step configs', () => {
  const all = [...Object.entries(SEED_000).map(([n, c]) => [`000 ${n}`, c] as const), ...Object.entries(SEED_001).map(([n, c]) => [`001 ${n}`, c] as const)];

  test('there are 31 configs in examples/seed-000 and 5 in examples/seed-001', () => {
    assert.equal(Object.keys(SEED_000).length, 31);
    assert.equal(Object.keys(SEED_001).length, 5);
  });

  for (const [name, config] of all) {
    // examples/seed-001's reference block has `exec` beside `image` and no containerName: Dagu's load error (below).
    if (name === '001 reference') continue;
    test(`${name}: loads without problems, normalises after expansion, has no unknown keys, fits the schema`, () => {
      assert.deepEqual(check(config), []);
      assert.doesNotThrow(() => normalize(expandLeaves(config)));
      assert.equal(schemaValidator().Check(config), true);
    });
  }

  test('000 hello: a new container from alpine, removed at the end', () => {
    assert.deepEqual(normalize(SEED_000.hello), {
      image: 'alpine',
      pull: 'missing',
      autoRemove: true,
      container: { Image: 'alpine' },
      host: {},
      network: {},
      exec: undefined,
    });
  });

  test('000 exec-in-existing: exec options with Engine API names, autoRemove kept', () => {
    assert.deepEqual(normalize(SEED_000['exec-in-existing']), {
      containerName: 'my-running-container',
      pull: 'missing',
      autoRemove: true,
      container: {},
      host: {},
      network: {},
      exec: { User: 'root', WorkingDir: '/app' },
    });
  });

  test('000 pull policies: always, missing, never', () => {
    assert.equal(normalize(SEED_000['pull-always']).pull, 'always');
    assert.equal(normalize(SEED_000['pull-if-missing']).pull, 'missing');
    assert.equal(normalize(SEED_000['never-pull']).pull, 'never');
    assert.equal(normalize(SEED_000['use-cache']).pull, 'missing');
  });

  test('000 specific-platform: linux/amd64', () => {
    assert.equal(normalize(SEED_000['specific-platform']).platform, 'linux/amd64');
  });

  test('000 with-env: container.env list expanded on the host', () => {
    assert.deepEqual(normalize(expandLeaves(SEED_000['with-env'])).container, {
      Env: ['APP_ENV=production', 'API_KEY=production', 'DEBUG=true'],
      Image: 'alpine',
    });
  });

  test('000 with-volumes: ./app resolved against the DAG directory, absolute binds unchanged', () => {
    assert.deepEqual(normalize(SEED_000['with-volumes']).host, {
      Binds: ['/host/data:/container/data:ro', '/host/output:/container/output:rw', '/dags/project/app:/app'],
    });
  });

  test('000 working-dir: WorkingDir in Config, ./src bind resolved', () => {
    const n = normalize(SEED_000['working-dir']);
    assert.deepEqual(n.container, { WorkingDir: '/usr/src/app', Image: 'node:18' });
    assert.deepEqual(n.host, { Binds: ['/dags/project/src:/usr/src/app'] });
  });

  test('000 named-container: image and containerName both kept, autoRemove false', () => {
    const n = normalize(SEED_000['named-container']);
    assert.equal(n.image, 'nginx');
    assert.equal(n.containerName, 'my-nginx-server');
    assert.equal(n.autoRemove, false);
  });

  test('000 custom-network: EndpointsConfig kept, network name verbatim', () => {
    assert.deepEqual(normalize(SEED_000['custom-network']).network, {
      EndpointsConfig: { 'my-network': { Aliases: ['my-service', 'api-server'] } },
    });
  });

  test('000 host-network: networkMode → NetworkMode', () => {
    assert.deepEqual(normalize(SEED_000['host-network']).host, { NetworkMode: 'host' });
  });

  test('000 resource-limits: cpuShares and memory directly under host reach the flat HostConfig', () => {
    assert.deepEqual(normalize(SEED_000['resource-limits']).host, { CpuShares: 512, Memory: 536870912 });
  });

  test('000 security-options: capAdd, capDrop, privileged, readonlyRootfs', () => {
    assert.deepEqual(normalize(SEED_000['security-options']).host, {
      CapAdd: ['SYS_ADMIN'],
      CapDrop: ['MKNOD'],
      Privileged: false,
      ReadonlyRootfs: true,
    });
  });

  test('000 run-as-user: User in Config', () => {
    assert.deepEqual(normalize(SEED_000['run-as-user']).container, { User: '1000:1000', Image: 'alpine' });
  });

  test('000 exec-example: exec env list', () => {
    assert.deepEqual(normalize(SEED_000['exec-example']).exec, { User: 'appuser', WorkingDir: '/app/data', Env: ['TASK=cleanup'] });
  });

  test('000 dynamic-exec: containerName from a variable passes the load check and is set at run time', () => {
    assert.deepEqual(check(SEED_000['dynamic-exec']), []);
    assert.equal(normalize(expandLeaves(SEED_000['dynamic-exec'])).containerName, 'production-app');
  });

  test('000 transform-data: memory beside binds', () => {
    assert.deepEqual(normalize(SEED_000['transform-data']).host, { Binds: ['/dags/project/data:/data'], Memory: 2147483648 });
  });

  test('000 load-data: lower-case endpointsConfig with an empty endpoint', () => {
    assert.deepEqual(normalize(SEED_000['load-data']).network, { EndpointsConfig: { 'db-network': {} } });
  });

  test('000 build-backend: env list and workingDir', () => {
    assert.deepEqual(normalize(SEED_000['build-backend']).container, { WorkingDir: '/app', Env: ['CGO_ENABLED=0', 'GOOS=linux'], Image: 'golang:1.21' });
  });

  test('000 package-app and efficient-build: `.` is the DAG directory, the socket bind unchanged', () => {
    assert.deepEqual(normalize(SEED_000['package-app']).host, {
      Binds: ['/var/run/docker.sock:/var/run/docker.sock', '/dags/project:/workspace'],
    });
    assert.deepEqual(normalize(SEED_000['efficient-build']).host, {
      Binds: ['/var/run/docker.sock:/var/run/docker.sock', '/dags/project:/app'],
    });
  });

  test("001 reference as written: exec beside image with no containerName is Dagu's load error, placed on exec", () => {
    assert.deepEqual(check(SEED_001.reference), [
      { path: `${CONFIG}.exec`, message: "'exec' options require 'containerName' (exec-in-existing mode)", place: placeOf(['exec']) },
    ]);
  });

  test('001 reference with a containerName (as examples/seed-001 has it): every field; exec kept for an existing container', () => {
    const named = { ...SEED_001.reference, containerName: 'ref' };
    assert.deepEqual(check(named), []);
    assert.deepEqual(normalize(named).exec, { User: 'root', WorkingDir: '/work', Env: ['DEBUG=1'] });
  });
});

// ---------------------------------------------------------------------------------------------
// Top-level keys

describe('top-level keys', () => {
  test('are matched case-insensitively', () => {
    const n = normalize({ IMAGE: 'alpine', ContainerName: 'x', PULL: 'always', AUTOREMOVE: true, Platform: 'linux/arm64', HOST: { privileged: true } });
    assert.equal(n.image, 'alpine');
    assert.equal(n.containerName, 'x');
    assert.equal(n.pull, 'always');
    assert.equal(n.autoRemove, true);
    assert.equal(n.platform, 'linux/arm64');
    assert.deepEqual(n.host, { Privileged: true });
  });

  test('unknown and snake_case keys are load errors, each with what was probably meant', () => {
    const raw = { image: 'alpine', container_name: 'x', auto_remove: true, volume: ['/a:/b'], workingDir: '/w', imgae: 'y', autoRemoval: true };
    assert.deepEqual(messages(raw), [
      'unknown key container_name in the docker executor config; did you mean containerName?',
      'unknown key auto_remove in the docker executor config; did you mean autoRemove?',
      'unknown key volume in the docker executor config; did you mean host.binds (bind mounts) or container.volumes?',
      'unknown key workingDir in the docker executor config; did you mean container.workingDir?',
      'unknown key imgae in the docker executor config; did you mean image?',
      'unknown key autoRemoval in the docker executor config; did you mean autoRemove?',
    ]);
  });

  test('a key given twice in different case is a problem on the second', () => {
    const problems = check({ image: 'alpine', Image: 'busybox' });
    assert.deepEqual(problems, [{ path: `${CONFIG}.Image`, message: 'duplicate key Image (same field as image)', place: placeOf(['Image']) }]);
  });

  test('image and containerName are trimmed and weakly typed', () => {
    assert.equal(normalize({ image: '  alpine  ' }).image, 'alpine');
    assert.equal(normalize({ containerName: 12345 }).containerName, '12345');
  });

  test('a map where image is expected is a decode error', () => {
    assert.deepEqual(check({ image: { name: 'alpine' } }), [
      { path: `${CONFIG}.image`, message: "failed to decode config: 'image' expected type 'string', got unconvertible type 'map'", place: placeOf(['image']) },
      { path: CONFIG, message: 'containerName or image must be specified', place: placeOf([]) },
    ]);
  });

  test('a config that is not a map is a decode error; a missing one is required', () => {
    assert.deepEqual(messages('alpine'), ["failed to decode config: expected a map, got 'string'"]);
    assert.deepEqual(messages(null), ['executor config is required']);
  });
});

describe('pull', () => {
  const cases: Array<[unknown, string]> = [
    ['always', 'always'],
    ['missing', 'missing'],
    ['never', 'never'],
    [true, 'always'],
    [false, 'never'],
    [null, 'missing'],
    ['', 'missing'],
    ...['1', 't', 'T', 'TRUE', 'true', 'True'].map((s): [unknown, string] => [s, 'always']),
    ...['0', 'f', 'F', 'FALSE', 'false', 'False'].map((s): [unknown, string] => [s, 'never']),
  ];
  for (const [input, policy] of cases) {
    test(`${JSON.stringify(input)} → ${policy}`, () => {
      assert.deepEqual(check({ image: 'alpine', pull: input }), []);
      assert.equal(normalize({ image: 'alpine', pull: input }).pull, policy);
    });
  }

  test('absent → missing', () => {
    assert.equal(normalize({ image: 'alpine' }).pull, 'missing');
  });

  const bad: Array<[unknown, string]> = [
    ['yes', 'failed to parse pull policy as boolean: strconv.ParseBool: parsing "yes": invalid syntax'],
    ['Always', 'failed to parse pull policy as boolean: strconv.ParseBool: parsing "Always": invalid syntax'],
    [1, 'invalid pull policy type: int'],
    [1.5, 'invalid pull policy type: float64'],
    [['always'], 'invalid pull policy type: []interface {}'],
    [{ a: 1 }, 'invalid pull policy type: map[string]interface {}'],
  ];
  for (const [input, message] of bad) {
    test(`${JSON.stringify(input)} → ${message}`, () => {
      assert.deepEqual(check({ image: 'alpine', pull: input }), [{ path: `${CONFIG}.pull`, message, place: placeOf(['pull']) }]);
      assert.equal(normalizeError({ image: 'alpine', pull: input }), message);
    });
  }
});

describe('autoRemove', () => {
  const cases: Array<[unknown, boolean]> = [
    [true, true],
    [false, false],
    ['true', true],
    ['1', true],
    ['T', true],
    ['false', false],
    ['f', false],
    [null, false],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${expected}`, () => {
      assert.equal(normalize({ image: 'alpine', autoRemove: input }).autoRemove, expected);
    });
  }

  test('defaults to false', () => {
    assert.equal(normalize({ image: 'alpine' }).autoRemove, false);
  });

  test('a string ParseBool rejects is a problem with Dagu text', () => {
    const message = 'failed to evaluate autoRemove value: strconv.ParseBool: parsing "yes": invalid syntax';
    assert.deepEqual(check({ image: 'alpine', autoRemove: 'yes' }), [{ path: `${CONFIG}.autoRemove`, message, place: placeOf(['autoRemove']) }]);
    assert.equal(normalizeError({ image: 'alpine', autoRemove: 'yes' }), message);
  });

  test('a number is a problem: unsupported type', () => {
    assert.deepEqual(messages({ image: 'alpine', autoRemove: 1 }), ['failed to evaluate autoRemove value: unsupported type int for bool']);
  });

  test('host.autoRemove is taken out of HostConfig and turns autoRemove on', () => {
    const n = normalize({ image: 'alpine', host: { autoRemove: true, privileged: true } });
    assert.equal(n.autoRemove, true);
    assert.deepEqual(n.host, { Privileged: true });
  });

  test('top-level autoRemove always wins over host.autoRemove', () => {
    const n = normalize({ image: 'alpine', autoRemove: false, host: { AutoRemove: true } });
    assert.equal(n.autoRemove, false);
    assert.deepEqual(n.host, {});
  });
});

describe('image / containerName / exec checks', () => {
  test('neither image nor containerName', () => {
    const message = 'containerName or image must be specified';
    assert.deepEqual(check({ autoRemove: true }), [{ path: CONFIG, message, place: placeOf([]) }]);
    assert.deepEqual(messages({ image: '   ', containerName: '' }), [message]);
    assert.equal(normalizeError({ pull: 'always' }), message);
  });

  test('a value known only after expansion defers the check to run time', () => {
    assert.deepEqual(check({ image: '${IMAGE}' }), []);
    assert.deepEqual(check({ containerName: '$NAME' }), []);
    assert.deepEqual(check({ image: '`cat image.txt`' }), []);
    assert.equal(normalizeError({ image: '' }), 'containerName or image must be specified');
  });

  test("image + exec without containerName is Dagu's load error, at load and when the step starts", () => {
    const raw = { image: 'alpine', exec: { user: 'root' } };
    assert.deepEqual(messages(raw), ["'exec' options require 'containerName' (exec-in-existing mode)"]);
    assert.equal(normalizeError(raw), "'exec' options require 'containerName' (exec-in-existing mode)");
  });

  test('no error for an empty exec, or when containerName is given or still unexpanded', () => {
    assert.deepEqual(check({ image: 'alpine', exec: {} }), []);
    assert.deepEqual(check({ image: 'alpine', containerName: 'c', exec: { user: 'root' } }), []);
    assert.deepEqual(check({ image: 'alpine', containerName: '${C}', exec: { user: 'root' } }), []);
  });

  test('containerName + exec: exec options are kept (used ones only)', () => {
    const n = normalize({ containerName: 'app', exec: { USER: 'root', privileged: 'true', tty: 0, env: { A: 1 }, cmd: ['ignored'], detach: true } });
    assert.deepEqual(n.exec, { User: 'root', Env: ['A=1'], Privileged: true, Tty: false });
  });

  test('container.image is overridden by image', () => {
    assert.equal(normalize({ image: 'alpine', container: { image: 'busybox' } }).container.Image, 'alpine');
  });
});

describe('platform', () => {
  const valid: Array<[string, string]> = [
    ['linux/amd64', 'linux/amd64'],
    ['linux/arm64', 'linux/arm64'],
    ['linux/arm64/v8', 'linux/arm64/v8'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/aarch64', 'linux/arm64'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/i386', 'linux/386'],
    ['LINUX/AMD64', 'linux/amd64'],
    ['arm64', 'linux/arm64'],
    ['x86_64', 'linux/amd64'],
    ['aarch64', 'linux/arm64'],
    ['armhf', 'linux/arm/v7'],
    ['linux', 'linux'],
    ['windows/amd64', 'windows/amd64'],
    ['darwin/arm64', 'darwin/arm64'],
    ['freebsd/amd64', 'freebsd/amd64'],
    ['linux/ppc64le', 'linux/ppc64le'],
    ['linux/s390x', 'linux/s390x'],
    ['linux/riscv64', 'linux/riscv64'],
    ['linux/mips64le', 'linux/mips64le'],
    [' linux/amd64 ', 'linux/amd64'],
  ];
  for (const [input, expected] of valid) {
    test(`${JSON.stringify(input)} → ${expected}`, () => {
      assert.equal(normalizePlatform(input), expected);
      assert.equal(normalize({ image: 'alpine', platform: input }).platform, expected);
    });
  }

  for (const input of ['foo', 'linux/foo', 'foo/amd64', 'linux/amd64/v2/x', 'linux/', '*', 'linux/amd 64']) {
    test(`${JSON.stringify(input)} is rejected with containerd's text`, () => {
      const message = `failed to parse platform ${input}: "${input}": unknown operating system or architecture: invalid argument`;
      assert.deepEqual(check({ image: 'alpine', platform: input }), [{ path: `${CONFIG}.platform`, message, place: placeOf(['platform']) }]);
      assert.equal(normalizeError({ image: 'alpine', platform: input }), message);
    });
  }

  test('an empty platform is absent; an unexpanded one is checked at run time', () => {
    assert.equal(normalize({ image: 'alpine', platform: '' }).platform, undefined);
    assert.deepEqual(check({ image: 'alpine', platform: '${PLATFORM}' }), []);
  });
});

// ---------------------------------------------------------------------------------------------
// The pass-through blocks

describe('host block: keys to HostConfig JSON names', () => {
  test('Appendix A names in any case become the Engine API names', () => {
    const n = normalize({
      image: 'alpine',
      host: {
        BINDS: ['/a:/b'],
        networkmode: 'bridge',
        portBindings: { '80/tcp': [{ hostIp: '127.0.0.1', hostPort: 8080 }] },
        capAdd: ['NET_ADMIN'],
        CAPDROP: ['MKNOD'],
        restartPolicy: { name: 'on-failure', maximumRetryCount: '3' },
        dns: ['1.1.1.1'],
        dnsOptions: ['ndots:2'],
        DNSSearch: ['example.com'],
        extraHosts: ['db:10.0.0.2'],
        mounts: [{ type: 'volume', source: 'data', target: '/data', readOnly: true, volumeOptions: { noCopy: true, labels: { 'a.b': 'c' } } }],
        tmpfs: { '/run': 'rw,size=64m' },
        sysctls: { 'net.core.somaxconn': 1024 },
        init: true,
        shmSize: '67108864',
        logConfig: { type: 'json-file', config: { 'max-size': '10m' } },
        securityOpt: ['no-new-privileges'],
        storageOpt: { size: '10G' },
        usernsMode: 'host',
        utsMode: 'host',
      },
    });
    assert.deepEqual(n.host, {
      Binds: ['/a:/b'],
      NetworkMode: 'bridge',
      PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] },
      CapAdd: ['NET_ADMIN'],
      CapDrop: ['MKNOD'],
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
      Dns: ['1.1.1.1'],
      DnsOptions: ['ndots:2'],
      DnsSearch: ['example.com'],
      ExtraHosts: ['db:10.0.0.2'],
      Mounts: [{ Type: 'volume', Source: 'data', Target: '/data', ReadOnly: true, VolumeOptions: { NoCopy: true, Labels: { 'a.b': 'c' } } }],
      Tmpfs: { '/run': 'rw,size=64m' },
      Sysctls: { 'net.core.somaxconn': '1024' },
      Init: true,
      ShmSize: 67108864,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } },
      SecurityOpt: ['no-new-privileges'],
      StorageOpt: { size: '10G' },
      UsernsMode: 'host',
      UTSMode: 'host',
    });
  });

  test('resource limits directly under host land flat in HostConfig', () => {
    const n = normalize({
      image: 'alpine',
      host: {
        memory: 536870912,
        cpuShares: 512,
        nanoCpus: 1500000000,
        pidsLimit: 100,
        cpuQuota: 50000,
        cpuPeriod: 100000,
        cpusetCpus: '0-1',
        memorySwap: -1,
        memoryReservation: 268435456,
        oomKillDisable: true,
        blkioWeight: 300,
        devices: [{ pathOnHost: '/dev/fuse', pathInContainer: '/dev/fuse', cgroupPermissions: 'rwm' }],
        ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }],
      },
    });
    assert.deepEqual(n.host, {
      Memory: 536870912,
      CpuShares: 512,
      NanoCpus: 1500000000,
      PidsLimit: 100,
      CpuQuota: 50000,
      CpuPeriod: 100000,
      CpusetCpus: '0-1',
      MemorySwap: -1,
      MemoryReservation: 268435456,
      OomKillDisable: true,
      BlkioWeight: 300,
      Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
    });
  });

  test("Dagu's nested host.resources is flattened into HostConfig too", () => {
    const n = normalize({ image: 'alpine', host: { privileged: true, Resources: { memory: 1024, CPUShares: 2 } } });
    assert.deepEqual(n.host, { Privileged: true, Memory: 1024, CpuShares: 2 });
  });

  test('the same limit given flat and nested is a duplicate-key problem', () => {
    assert.deepEqual(check({ image: 'alpine', host: { memory: 1, resources: { Memory: 2 } } }), [
      {
        path: `${CONFIG}.host.resources.Memory`,
        message: 'duplicate key host.resources.Memory (same field as host.memory)',
        place: placeOf(['host', 'resources', 'Memory']),
      },
    ]);
  });

  test('an unknown key under host.resources names the Resources struct', () => {
    assert.deepEqual(messages({ image: 'alpine', host: { resources: { memroy: 1 } } }), [
      'unknown key host.resources.memroy (not a Docker Resources field; did you mean Memory?)',
    ]);
  });
});

describe('container, network and exec blocks', () => {
  test('container keys in any case become Config JSON names; map keys stay verbatim', () => {
    const n = normalize({
      image: 'alpine',
      container: {
        ENV: ['A=1'],
        workingdir: '/w',
        User: 'nobody',
        cmd: ['echo', 'hi'],
        entrypoint: ['/bin/sh', '-c'],
        exposedPorts: { '80/tcp': {}, '53/udp': null },
        labels: { 'com.example.Team': 'core' },
        hostname: 'box',
        tty: false,
        stopSignal: 'SIGINT',
        stopTimeout: 5,
        healthcheck: { test: ['CMD', 'true'], interval: 1000000000, retries: 3 },
        volumes: { '/cache': {} },
      },
    });
    assert.deepEqual(n.container, {
      Env: ['A=1'],
      WorkingDir: '/w',
      User: 'nobody',
      Cmd: ['echo', 'hi'],
      Entrypoint: ['/bin/sh', '-c'],
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Labels: { 'com.example.Team': 'core' },
      Hostname: 'box',
      Tty: false,
      StopSignal: 'SIGINT',
      StopTimeout: 5,
      Healthcheck: { Test: ['CMD', 'true'], Interval: 1000000000, Retries: 3 },
      Volumes: { '/cache': {} },
      Image: 'alpine',
    });
  });

  test('network EndpointsConfig: names verbatim, settings by their own table', () => {
    const n = normalize({
      image: 'alpine',
      network: { endpointsconfig: { 'My.Net': { aliases: ['api'], ipamConfig: { ipv4Address: '10.0.0.5' }, links: 'db' } } },
    });
    assert.deepEqual(n.network, { EndpointsConfig: { 'My.Net': { Aliases: ['api'], IPAMConfig: { IPv4Address: '10.0.0.5' }, Links: ['db'] } } });
  });

  test('an empty or null endpoint becomes {}', () => {
    assert.deepEqual(normalize({ image: 'alpine', network: { EndpointsConfig: { a: null, b: {} } } }).network, { EndpointsConfig: { a: {}, b: {} } });
  });

  test('null block values are absent', () => {
    const n = normalize({ image: 'alpine', container: null, host: { privileged: null } });
    assert.deepEqual(n.container, { Image: 'alpine' });
    assert.deepEqual(n.host, {});
  });
});

describe('weak typing inside blocks', () => {
  const cases: Array<[string, Record<string, unknown>, (n: NormalizedDockerConfig) => unknown, unknown]> = [
    ['a single env string → one-element list', { container: { env: 'A=1' } }, (n) => n.container.Env, ['A=1']],
    ['a single cmd string → one-element list, not split', { container: { cmd: 'echo hi' } }, (n) => n.container.Cmd, ['echo hi']],
    ['a single capAdd string → list', { host: { capAdd: 'NET_ADMIN' } }, (n) => n.host.CapAdd, ['NET_ADMIN']],
    ['"true" → true for a bool', { container: { tty: 'true' } }, (n) => n.container.Tty, true],
    ['"1" → true for a bool', { host: { privileged: '1' } }, (n) => n.host.Privileged, true],
    ['"t" → true for a bool', { host: { init: 't' } }, (n) => n.host.Init, true],
    ['"F" → false for a bool', { host: { init: 'F' } }, (n) => n.host.Init, false],
    ['a number → bool (non-zero)', { host: { privileged: 1 } }, (n) => n.host.Privileged, true],
    ['a numeric string → int', { host: { memory: '536870912' } }, (n) => n.host.Memory, 536870912],
    ['a negative numeric string → int', { host: { memorySwap: '-1' } }, (n) => n.host.MemorySwap, -1],
    ['a number → string', { container: { user: 1000 } }, (n) => n.container.User, '1000'],
    ['numbers in a string list → strings', { container: { cmd: ['sleep', 5] } }, (n) => n.container.Cmd, ['sleep', '5']],
    ['a number hostPort → string', { host: { portBindings: { '80/tcp': [{ hostPort: 8080 }] } } }, (n) => n.host.PortBindings, { '80/tcp': [{ HostPort: '8080' }] }],
    ['a single port binding → list', { host: { portBindings: { '80/tcp': { hostPort: '8080' } } } }, (n) => n.host.PortBindings, { '80/tcp': [{ HostPort: '8080' }] }],
    ['a map env → KEY=value list', { container: { env: { A: 1, B: 'x' } } }, (n) => n.container.Env, ['A=1', 'B=x']],
    ['exposedPorts as a list → set', { container: { exposedPorts: ['80/tcp'] } }, (n) => n.container.ExposedPorts, { '80/tcp': {} }],
  ];
  for (const [name, extra, pick, expected] of cases) {
    test(name, () => {
      const raw = { image: 'alpine', ...extra };
      assert.deepEqual(check(raw), []);
      assert.deepEqual(pick(normalize(raw)), expected);
    });
  }
});

describe('decode errors and unknown keys', () => {
  const cases: Array<[string, Record<string, unknown>, Array<string | number>, string]> = [
    ['host is a string', { host: 'x' }, ['host'], "failed to decode config: 'host' expected a map, got 'string'"],
    ['container is a list', { container: ['a'] }, ['container'], "failed to decode config: 'container' expected a map, got 'slice'"],
    ['restartPolicy is a string', { host: { restartPolicy: 'always' } }, ['host', 'restartPolicy'], "failed to decode config: 'host.restartPolicy' expected a map, got 'string'"],
    ['a duration string for a nanosecond field', { container: { healthcheck: { interval: '5s' } } }, ['container', 'healthcheck', 'interval'], "failed to decode config: cannot parse 'container.healthcheck.interval' as int"],
    ['a bool field with a word', { host: { privileged: 'yes' } }, ['host', 'privileged'], "failed to decode config: cannot parse 'host.privileged' as bool"],
    ['a fraction for an int field', { host: { memory: 1.5 } }, ['host', 'memory'], "failed to decode config: 'host.memory' expected type 'int', got unconvertible type 'float64'"],
    ['a map for a string list', { host: { capAdd: { a: 1 } } }, ['host', 'capAdd'], "failed to decode config: 'host.capAdd' expected type 'string', got unconvertible type 'map'"],
    ['a map in a string list', { host: { binds: ['/a:/b', { x: 1 }] } }, ['host', 'binds', 1], "failed to decode config: 'host.binds[1]' expected type 'string', got unconvertible type 'map'"],
    ['labels as a list', { container: { labels: ['a=b'] } }, ['container', 'labels'], "failed to decode config: 'container.labels' expected a map, got 'slice'"],
    ['an unknown host key', { host: { foo: 1 } }, ['host', 'foo'], 'unknown key host.foo (not a Docker HostConfig field)'],
    ['a snake_case host key, with a hint', { host: { cap_add: ['X'] } }, ['host', 'cap_add'], 'unknown key host.cap_add (not a Docker HostConfig field; did you mean CapAdd?)'],
    ['an unknown container key', { container: { workdir: '/w' } }, ['container', 'workdir'], 'unknown key container.workdir (not a Docker Config field; did you mean WorkingDir?)'],
    ['an unknown network key', { network: { aliases: ['a'] } }, ['network', 'aliases'], 'unknown key network.aliases (not a Docker NetworkingConfig field)'],
    ['an unknown exec key', { containerName: 'c', exec: { workdir: '/w' } }, ['exec', 'workdir'], 'unknown key exec.workdir (not a Docker ExecOptions field; did you mean WorkingDir?)'],
    ['an unknown nested key', { host: { logConfig: { driver: 'x' } } }, ['host', 'logConfig', 'driver'], 'unknown key host.logConfig.driver (not a Docker LogConfig field)'],
    [
      'an unknown endpoint key',
      { network: { EndpointsConfig: { 'my-net': { alias: ['a'] } } } },
      ['network', 'EndpointsConfig', 'my-net', 'alias'],
      'unknown key network.EndpointsConfig.my-net.alias (not a Docker EndpointSettings field; did you mean Aliases?)',
    ],
    ['an unknown mount key', { host: { mounts: [{ type: 'bind', src: '/a' }] } }, ['host', 'mounts', 0, 'src'], 'unknown key host.mounts[0].src (not a Docker Mount field)'],
    ['two spellings of one field', { host: { binds: ['/a:/b'], Binds: ['/c:/d'] } }, ['host', 'Binds'], 'duplicate key host.Binds (same field as host.binds)'],
  ];
  for (const [name, extra, rel, message] of cases) {
    test(`${name}: ${message}`, () => {
      const raw = { image: 'alpine', ...extra };
      assert.deepEqual(check(raw), [{ path: `${CONFIG}.${formatPath(rel)}`, message, place: placeOf(rel) }]);
      assert.equal(normalizeError(raw), message);
    });
  }

  test('all problems of a config are reported together', () => {
    assert.deepEqual(messages({ image: 'alpine', pull: 'x', host: { foo: 1, privileged: 'maybe' }, container: { bar: 2 } }), [
      'unknown key container.bar (not a Docker Config field)',
      'unknown key host.foo (not a Docker HostConfig field)',
      "failed to decode config: cannot parse 'host.privileged' as bool",
      'failed to parse pull policy as boolean: strconv.ParseBool: parsing "x": invalid syntax',
    ]);
  });

  test('an empty ctx.path gives paths relative to the config', () => {
    assert.deepEqual(
      checkDockerStepConfig({ image: 'alpine', host: { foo: 1 } }, locate, { path: '' }).map((p) => p.path),
      ['host.foo'],
    );
  });
});

describe('values known only after expansion', () => {
  test('are not converted or judged at load time', () => {
    const raw = {
      image: 'alpine',
      pull: '${PULL}',
      autoRemove: '$AUTO_REMOVE',
      platform: '${PLATFORM}',
      host: { memory: '${MEMORY}', privileged: '`echo true`' },
      container: { stopTimeout: '${T}' },
    };
    assert.deepEqual(check(raw), []);
  });

  test('are converted after expansion', () => {
    const n = normalize({ image: 'alpine', pull: 'never', autoRemove: 'true', platform: 'linux/arm64', host: { memory: '1024', privileged: 'true' } });
    assert.equal(n.pull, 'never');
    assert.equal(n.autoRemove, true);
    assert.equal(n.platform, 'linux/arm64');
    assert.deepEqual(n.host, { Memory: 1024, Privileged: true });
  });

  test('and fail at run time with the same texts when the expansion is bad', () => {
    assert.equal(normalizeError({ image: 'alpine', host: { memory: 'lots' } }), "failed to decode config: cannot parse 'host.memory' as int");
    assert.equal(normalizeError({ image: 'alpine', pull: 'sometimes' }), 'failed to parse pull policy as boolean: strconv.ParseBool: parsing "sometimes": invalid syntax');
  });

  test('an expansion to the empty string leaves an int or bool field unset', () => {
    assert.deepEqual(normalize({ image: 'alpine', host: { memory: '', privileged: '' } }).host, {});
  });
});

describe('relative host paths are resolved against the DAG directory at run time', () => {
  const cases: Array<[string, string]> = [
    ['./app:/app', '/dags/project/app:/app'],
    ['.:/workspace', '/dags/project:/workspace'],
    ['./:/workspace', '/dags/project:/workspace'],
    ['../x:/x', '/dags/x:/x'],
    ['.cache:/cache', '/dags/project/.cache:/cache'],
    ['./data:/data:ro', '/dags/project/data:/data:ro'],
    ['~/x:/x', `${os.homedir()}/x:/x`],
    ['/host/data:/data:rw', '/host/data:/data:rw'],
    ['named-volume:/data', 'named-volume:/data'],
    ['/tmp', '/tmp'],
  ];
  for (const [bind, expected] of cases) {
    test(`${bind} → ${expected}`, () => {
      assert.deepEqual(normalize({ image: 'alpine', host: { binds: [bind] } }).host.Binds, [expected]);
    });
  }

  test('bind mounts in Mounts too; volume mounts unchanged', () => {
    const n = normalize({
      image: 'alpine',
      host: {
        mounts: [
          { type: 'bind', source: './data', target: '/data' },
          { type: 'volume', source: 'data', target: '/v' },
          { type: 'bind', source: '/abs', target: '/abs' },
        ],
      },
    });
    assert.deepEqual(n.host.Mounts, [
      { Type: 'bind', Source: '/dags/project/data', Target: '/data' },
      { Type: 'volume', Source: 'data', Target: '/v' },
      { Type: 'bind', Source: '/abs', Target: '/abs' },
    ]);
  });
});

describe('DockerStepConfigSchema', () => {
  test('accepts keys in any letter case and unknown top-level keys', () => {
    assert.equal(schemaValidator().Check({ IMAGE: 'alpine', container_name: 'x', host: { BINDS: ['/a:/b'], cpushares: 2 } }), true);
  });

  test('rejects a block of the wrong type and an unknown key inside a block', () => {
    assert.equal(schemaValidator().Check({ image: 'alpine', host: 'x' }), false);
    assert.equal(schemaValidator().Check({ image: 'alpine', host: { foo: 1 } }), false);
    assert.equal(schemaValidator().Check({ image: 'alpine', network: { endpointsConfig: { n: { alias: [] } } } }), false);
  });

  test('types the lower-camel spelling the seeds use', () => {
    assert.equal(schemaValidator().Check({ image: 'alpine', host: { restartPolicy: 'always' } }), false);
    assert.equal(schemaValidator().Check({ image: 'alpine', host: { restartPolicy: { name: 'always' } } }), true);
    assert.equal(schemaValidator().Check({ image: 'alpine', network: { endpointsConfig: { n: { ipamConfig: { ipv4Address: 5 } } } } }), true);
    assert.equal(schemaValidator().Check({ image: 'alpine', network: { endpointsConfig: { n: { ipamConfig: { ipv4Address: {} } } } } }), false);
  });
});

describe('keys.ts tables', () => {
  const names: Array<[string, string]> = [
    ['cpuShares', 'CpuShares'],
    ['CPUShares', 'CpuShares'],
    ['nanoCPUs', 'NanoCpus'],
    ['DNS', 'Dns'],
    ['dnsoptions', 'DnsOptions'],
    ['DNSSearch', 'DnsSearch'],
    ['binds', 'Binds'],
    ['NETWORKMODE', 'NetworkMode'],
    ['utsmode', 'UTSMode'],
    ['containeridfile', 'ContainerIDFile'],
    ['CPURealtimePeriod', 'CpuRealtimePeriod'],
  ];
  for (const [key, json] of names) {
    test(`host key ${key} → ${json}`, () => {
      assert.equal(fieldName(HOST_CONFIG, key), json);
    });
  }

  test('a key of another block is not a HostConfig field', () => {
    assert.equal(fieldName(HOST_CONFIG, 'workingDir'), undefined);
    assert.equal(fieldName(CONTAINER_CONFIG, 'workingdir'), 'WorkingDir');
  });

  test('camelSpelling gives the seeds\' spelling of a JSON name', () => {
    assert.deepEqual(
      ['CpuShares', 'IPAMConfig', 'DNSNames', 'UTSMode', 'IPPrefixLen', 'IPv4Address', 'HostIp', 'Binds', 'EndpointsConfig', 'Dns'].map(camelSpelling),
      ['cpuShares', 'ipamConfig', 'dnsNames', 'utsMode', 'ipPrefixLen', 'ipv4Address', 'hostIp', 'binds', 'endpointsConfig', 'dns'],
    );
  });

  test('caseInsensitivePattern matches every letter case and nothing else', () => {
    const re = new RegExp(caseInsensitivePattern('IPv4Address'), 'u');
    assert.equal(re.test('ipv4address'), true);
    assert.equal(re.test('IPV4ADDRESS'), true);
    assert.equal(re.test('ipv4_address'), false);
    assert.equal(re.test('xipv4address'), false);
  });
});
