import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import os from 'node:os';
import { parse } from 'yaml';
import { Compile } from 'typebox/compile';
import type { Place } from '../../lib/common/errors.js';
import { formatPath, type Locate, type Problem } from '../../lib/common/problem.js';
import type { Lookup } from '../../lib/common/expand.js';
import type { DagContainer } from '../../lib/common/model.js';
import { DagContainerSchema, buildDagContainer } from '../../lib/executors/docker/container-config.js';
import { compileLogPattern } from '../../lib/common/log-pattern.js';

// A place that encodes the relative path it was asked for, so tests can check where problems point.
const placeOf = (path: ReadonlyArray<string | number>): Place => ({ file: `dag.yaml#${JSON.stringify(path)}`, line: 1, col: 1 });
const locate: Locate = (path) => placeOf(path);
const DIR = '/dags/project';
const VARS: Record<string, string> = { API_KEY: 'from-host', HOME_DIR: '/home/me' };
const lookup: Lookup = (name) => VARS[name];

function build(raw: unknown, vars: Lookup = lookup) {
  return buildDagContainer(raw, locate, { dir: DIR, lookup: vars, path: 'container' });
}
function value(raw: unknown): DagContainer {
  const { value: v, problems } = build(raw);
  assert.deepEqual(problems, []);
  assert.ok(v, 'expected a container');
  return v;
}
/** The one problem of `raw`, which must carry `message` at `rel` (relative to the block). */
function oneProblem(raw: unknown, rel: Array<string | number>, message: string): void {
  const { value: v, problems } = build(raw);
  const expected: Problem = { path: `container${rel.length === 0 ? '' : `.${formatPath(rel)}`}`, message, place: placeOf(rel) };
  assert.deepEqual(problems, [expected]);
  assert.equal(v, undefined);
}

let compiled: ReturnType<typeof Compile> | undefined;
function schemaValidator(): ReturnType<typeof Compile> {
  compiled ??= Compile(DagContainerSchema);
  return compiled;
}

const DEFAULTS = {
  pullPolicy: 'missing',
  env: [],
  binds: [],
  volumes: [],
  ports: {},
  keepContainer: false,
  startup: 'keepalive',
  command: [],
  waitFor: 'running',
  place: placeOf([]),
} as const;

// ---------------------------------------------------------------------------------------------

/** Every DAG-level `container:` block of examples/seed-001. */
const SEEDS = parse(`
all-steps:
  image: python:3.11
  volumes:
  - ./data:/data
  env:
  - PYTHONPATH=/app
field-configuration:
  image: node:24 # Required
  pullPolicy: missing # always, missing, never
  env:
    - NODE_ENV=production
    - API_KEY=\${API_KEY} # From host environment
  volumes:
    - ./src:/app # Bind mount
    - /data:/data:ro # Read-only mount
  workingDir: /app # Working directory
  platform: linux/amd64 # Platform specification
  user: "1000:1000" # User and group
  ports:
    - "8080:8080" # Port mapping
  network: host # Network mode
  keepContainer: true # Keep container running
entrypoint-dispatcher:
  image: myorg/myimage:latest
private-registry:
  image: ghcr.io/myorg/private-app:latest
lifecycle:
  image: postgres:16
  keepContainer: true
  env:
    - POSTGRES_PASSWORD=secret
  ports:
    - "5432:5432"
platform:
  image: postgres:16
  platform: linux/amd64
  env:
    - POSTGRES_PASSWORD=secret
  ports:
    - "5432:5432"
`) as Record<string, Record<string, unknown>>;

describe('examples/seed-001 container blocks', () => {
  test('there are six', () => {
    assert.equal(Object.keys(SEEDS).length, 6);
  });

  for (const [name, block] of Object.entries(SEEDS)) {
    test(`${name}: loads without problems and fits the schema`, () => {
      assert.deepEqual(build(block).problems, []);
      assert.equal(schemaValidator().Check(block), true);
    });
  }

  test('all-steps: ./data resolved against the DAG working directory, env kept', () => {
    assert.deepEqual(value(SEEDS['all-steps']), {
      ...DEFAULTS,
      image: 'python:3.11',
      env: ['PYTHONPATH=/app'],
      binds: ['/dags/project/data:/data:rw'],
    });
  });

  test('field-configuration: every field', () => {
    assert.deepEqual(value(SEEDS['field-configuration']), {
      ...DEFAULTS,
      image: 'node:24',
      pullPolicy: 'missing',
      env: ['NODE_ENV=production', 'API_KEY=from-host'],
      binds: ['/dags/project/src:/app:rw', '/data:/data:ro'],
      workingDir: '/app',
      platform: 'linux/amd64',
      user: '1000:1000',
      ports: { '8080/tcp': [{ hostIp: '0.0.0.0', hostPort: '8080' }] },
      network: 'host',
      keepContainer: true,
    });
  });

  test('entrypoint-dispatcher: image alone gets every default', () => {
    assert.deepEqual(value(SEEDS['entrypoint-dispatcher']), { ...DEFAULTS, image: 'myorg/myimage:latest' });
  });

  test('lifecycle: keepContainer, env, one port', () => {
    assert.deepEqual(value(SEEDS.lifecycle), {
      ...DEFAULTS,
      image: 'postgres:16',
      keepContainer: true,
      env: ['POSTGRES_PASSWORD=secret'],
      ports: { '5432/tcp': [{ hostIp: '0.0.0.0', hostPort: '5432' }] },
    });
  });

  test('platform: linux/amd64', () => {
    assert.equal(value(SEEDS.platform).platform, 'linux/amd64');
  });
});

describe('keys', () => {
  test('match case-insensitively', () => {
    const c = value({ IMAGE: 'alpine', PullPolicy: 'never', WORKINGDIR: '/w', keepcontainer: true, Ports: ['80'], NAME: 'db' });
    assert.equal(c.image, 'alpine');
    assert.equal(c.pullPolicy, 'never');
    assert.equal(c.workingDir, '/w');
    assert.equal(c.keepContainer, true);
    assert.deepEqual(c.ports, { '80/tcp': [] });
    assert.equal(c.name, 'db');
  });

  test('an unknown key is a load error with Dagu text', () => {
    oneProblem({ image: 'alpine', foo: 1 }, ['foo'], 'container has invalid keys: foo');
  });

  test('snake_case spellings are unknown keys', () => {
    const { problems } = build({ image: 'alpine', keep_container: true, pull_policy: 'always' });
    assert.deepEqual(
      problems.map((p) => [p.path, p.message]),
      [
        ['container.keep_container', 'container has invalid keys: keep_container; did you mean keepContainer?'],
        ['container.pull_policy', 'container has invalid keys: pull_policy; did you mean pullPolicy?'],
      ],
    );
  });

  test('a field given twice in different case is a problem', () => {
    oneProblem({ image: 'alpine', Image: 'busybox' }, ['Image'], 'container has duplicate keys: Image (same field as image)');
  });

  test('workDir is an alias of workingDir and wins when both are set', () => {
    assert.equal(value({ image: 'a', workDir: '/x' }).workingDir, '/x');
    assert.equal(value({ image: 'a', workingDir: '/y', workDir: '/x' }).workingDir, '/x');
    assert.equal(value({ image: 'a', workingDir: '/y' }).workingDir, '/y');
  });

  test('null values count as absent', () => {
    assert.deepEqual(value({ image: 'alpine', user: null, ports: null, keepContainer: null, env: null }), { ...DEFAULTS, image: 'alpine' });
  });

  test('`container:` with nothing under it is no container and no problem', () => {
    assert.deepEqual(build(null), { problems: [] });
  });

  test('a block that is not a map is a problem', () => {
    oneProblem('alpine', [], 'container must be a map, got string');
  });

  test('name is trimmed; image is trimmed', () => {
    const c = value({ image: ' alpine ', name: ' db ' });
    assert.equal(c.image, 'alpine');
    assert.equal(c.name, 'db');
  });
});

describe('strict types', () => {
  const cases: Array<[string, Record<string, unknown>, Array<string | number>, string]> = [
    ['keepContainer: "true"', { keepContainer: 'true' }, ['keepContainer'], "'keepContainer' expected type 'bool', got unconvertible type 'string'"],
    ['ports: [8080]', { ports: [8080] }, ['ports', 0], "'ports[0]' expected type 'string', got unconvertible type 'int'"],
    ['volumes: a string', { volumes: './a:/b' }, ['volumes'], "'volumes' expected type '[]string', got unconvertible type 'string'"],
    ['user: 1000', { user: 1000 }, ['user'], "'user' expected type 'string', got unconvertible type 'int'"],
    ['command: a string', { command: 'redis-server' }, ['command'], "'command' expected type '[]string', got unconvertible type 'string'"],
    ['network: a map', { network: { name: 'x' } }, ['network'], "'network' expected type 'string', got unconvertible type 'map[string]interface {}'"],
    ['startup: true', { startup: true }, ['startup'], "'startup' expected type 'string', got unconvertible type 'bool'"],
    ['keepContainer: 1', { keepContainer: 1 }, ['keepContainer'], "'keepContainer' expected type 'bool', got unconvertible type 'int'"],
  ];
  for (const [name, extra, rel, message] of cases) {
    test(`${name} → ${message}`, () => {
      oneProblem({ image: 'alpine', ...extra }, rel, message);
    });
  }

  test('the problem path keeps the key as written', () => {
    oneProblem({ image: 'alpine', KeepContainer: 'yes' }, ['KeepContainer'], "'KeepContainer' expected type 'bool', got unconvertible type 'string'");
  });

  test('image of the wrong type is a type problem, not also "required"', () => {
    oneProblem({ image: 5 }, ['image'], "'image' expected type 'string', got unconvertible type 'int'");
  });
});

describe('image is required', () => {
  const message = 'image is required when container is specified';
  test('missing', () => oneProblem({ user: 'root' }, ['image'], message));
  test('empty', () => oneProblem({ image: '' }, ['image'], message));
  test('blank', () => oneProblem({ image: '   ' }, ['image'], message));
});

describe('pullPolicy', () => {
  const cases: Array<[unknown, string]> = [
    ['always', 'always'],
    ['missing', 'missing'],
    ['never', 'never'],
    [true, 'always'],
    [false, 'never'],
    ['TRUE', 'always'],
    ['0', 'never'],
    ['', 'missing'],
  ];
  for (const [input, policy] of cases) {
    test(`${JSON.stringify(input)} → ${policy}`, () => {
      assert.equal(value({ image: 'a', pullPolicy: input }).pullPolicy, policy);
    });
  }
  test('"sometimes" → ParseBool error', () => {
    oneProblem({ image: 'a', pullPolicy: 'sometimes' }, ['pullPolicy'], 'failed to parse pull policy as boolean: strconv.ParseBool: parsing "sometimes": invalid syntax');
  });
  test('a number → invalid pull policy type', () => {
    oneProblem({ image: 'a', pullPolicy: 1 }, ['pullPolicy'], 'invalid pull policy type: int');
  });
});

describe('env', () => {
  const ENV_ERROR = 'env config should be map of strings or array of key=value formatted string';

  test('a map', () => {
    assert.deepEqual(value({ image: 'a', env: { A: '1', B: 2, C: true, D: null } }).env, ['A=1', 'B=2', 'C=true', 'D=']);
  });

  test('a list of KEY=value strings and {KEY: value} maps, in order', () => {
    assert.deepEqual(value({ image: 'a', env: ['A=1', { B: '2' }, 'C=x=y'] }).env, ['A=1', 'B=2', 'C=x=y']);
  });

  test('values are expanded from the lookup, and later entries see earlier ones', () => {
    assert.deepEqual(value({ image: 'a', env: ['KEY=${API_KEY}', 'BASE=/srv', { DATA: '${BASE}/data' }, 'ALL=$BASE:${DATA}'] }).env, [
      'KEY=from-host',
      'BASE=/srv',
      'DATA=/srv/data',
      'ALL=/srv:/srv/data',
    ]);
  });

  test('an earlier entry wins over the lookup', () => {
    assert.deepEqual(value({ image: 'a', env: ['API_KEY=local', 'X=${API_KEY}'] }).env, ['API_KEY=local', 'X=local']);
  });

  test('a name defined nowhere is left as written', () => {
    assert.deepEqual(value({ image: 'a', env: ['X=${NOWHERE}'] }).env, ['X=${NOWHERE}']);
  });

  test('backticks run on the host, their trimmed output spliced in', () => {
    assert.deepEqual(value({ image: 'a', env: ['GREETING=`echo hello`', 'B=x`printf " y "`z'] }).env, ['GREETING=hello', 'B=xyz']);
  });

  test('backticks run in the DAG working directory when it exists', () => {
    const dir = realpathSync(os.tmpdir());
    const { value: v } = buildDagContainer({ image: 'a', env: ['WHERE=`pwd`'] }, locate, { dir, lookup, path: 'container' });
    assert.deepEqual(v?.env, [`WHERE=${dir}`]);
  });

  test('a failing backtick command is a problem on its entry', () => {
    const { problems } = build({ image: 'a', env: ['X=`exit 3`'] });
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, 'container.env[0]');
    assert.match(problems[0]!.message, /^command substitution `exit 3` failed/);
  });

  test('a name given twice keeps its last value at its first position', () => {
    assert.deepEqual(value({ image: 'a', env: ['A=1', 'B=2', 'A=3'] }).env, ['A=3', 'B=2']);
  });

  const bad: Array<[string, unknown, Array<string | number>]> = [
    ['a number item', [5], ['env', 0]],
    ['a list item', [['A=1']], ['env', 0]],
    ['a string without =', ['NOEQUALS'], ['env', 0]],
    ['a string with an empty name', ['=1'], ['env', 0]],
    ['a map item with a map value', [{ A: { x: 1 } }], ['env', 0, 'A']],
    ['a map with a list value', { A: [1] }, ['env', 'A']],
    ['a plain string', 'A=1', ['env']],
  ];
  for (const [name, env, rel] of bad) {
    test(`${name} → ${ENV_ERROR}`, () => {
      oneProblem({ image: 'a', env }, rel, ENV_ERROR);
    });
  }
});

describe('volumes', () => {
  const binds: Array<[string, string]> = [
    ['/data:/data', '/data:/data:rw'],
    ['/data:/data:ro', '/data:/data:ro'],
    ['/data:/data:rw', '/data:/data:rw'],
    ['./src:/app', '/dags/project/src:/app:rw'],
    ['.:/workspace', '/dags/project:/workspace:rw'],
    ['./:/workspace', '/dags/project:/workspace:rw'],
    ['../shared:/shared', '/dags/shared:/shared:rw'],
    ['.cache:/cache', '/dags/project/.cache:/cache:rw'],
    ['~/x:/x:ro', `${os.homedir()}/x:/x:ro`],
    ['~:/home', `${os.homedir()}:/home:rw`],
  ];
  for (const [spec, bind] of binds) {
    test(`${spec} → bind ${bind}`, () => {
      const c = value({ image: 'a', volumes: [spec] });
      assert.deepEqual(c.binds, [bind]);
      assert.deepEqual(c.volumes, []);
    });
  }

  test('anything else is a named volume', () => {
    const c = value({ image: 'a', volumes: ['cache:/cache', 'db-data:/var/lib/db:ro'] });
    assert.deepEqual(c.volumes, [
      { name: 'cache', target: '/cache', readOnly: false },
      { name: 'db-data', target: '/var/lib/db', readOnly: true },
    ]);
    assert.deepEqual(c.binds, []);
  });

  const bad: Array<[string, string]> = [
    ['/data', 'invalid volume format: /data'],
    ['a:b:c:d', 'invalid volume format: a:b:c:d'],
    [':/data', 'invalid volume format: :/data'],
    ['/data:', 'invalid volume format: /data:'],
    ['/tmp:/data:bogus', 'invalid volume format: invalid mode bogus in /tmp:/data:bogus'],
    ['cache:/c:RO', 'invalid volume format: invalid mode RO in cache:/c:RO'],
  ];
  for (const [spec, message] of bad) {
    test(`${spec} → ${message}`, () => {
      oneProblem({ image: 'a', volumes: ['/ok:/ok', spec] }, ['volumes', 1], message);
    });
  }
});

describe('ports', () => {
  const good: Array<[string[], DagContainer['ports']]> = [
    [['80'], { '80/tcp': [] }],
    [['80/udp'], { '80/udp': [] }],
    [['8080:80'], { '80/tcp': [{ hostIp: '0.0.0.0', hostPort: '8080' }] }],
    [['127.0.0.1:8080:80'], { '80/tcp': [{ hostIp: '127.0.0.1', hostPort: '8080' }] }],
    [['53:53/udp'], { '53/udp': [{ hostIp: '0.0.0.0', hostPort: '53' }] }],
    [['9000:9000/sctp'], { '9000/sctp': [{ hostIp: '0.0.0.0', hostPort: '9000' }] }],
    [[' 8080:80 '], { '80/tcp': [{ hostIp: '0.0.0.0', hostPort: '8080' }] }],
    [[':80'], { '80/tcp': [] }],
    [
      ['8080:80', '127.0.0.1:8081:80'],
      { '80/tcp': [{ hostIp: '0.0.0.0', hostPort: '8080' }, { hostIp: '127.0.0.1', hostPort: '8081' }] },
    ],
    [['65535:1'], { '1/tcp': [{ hostIp: '0.0.0.0', hostPort: '65535' }] }],
  ];
  for (const [specs, ports] of good) {
    test(`${JSON.stringify(specs)} → ${JSON.stringify(ports)}`, () => {
      assert.deepEqual(value({ image: 'a', ports: specs }).ports, ports);
    });
  }

  const bad: Array<[string, string]> = [
    ['1.2.3.4:1:2:3', 'invalid port format: 1.2.3.4:1:2:3'],
    ['::1:8080:80', 'invalid port format: ::1:8080:80'],
    ['80/tcp/x', 'invalid port format: invalid protocol in 80/tcp/x'],
    ['8080:80/icmp', 'invalid port format: invalid protocol icmp in 8080:80/icmp'],
    ['http', 'invalid port format: invalid container port http in http'],
    ['0', 'invalid port format: invalid container port 0 in 0'],
    ['8080:70000', 'invalid port format: invalid container port 70000 in 8080:70000'],
    ['8080:', 'invalid port format: invalid container port  in 8080:'],
    ['localhost:8080:80', 'invalid port format: invalid host IP localhost in localhost:8080:80'],
    ['300.1.1.1:8080:80', 'invalid port format: invalid host IP 300.1.1.1 in 300.1.1.1:8080:80'],
    ['99999:80', 'invalid port format: invalid host port 99999 in 99999:80'],
    ['web:80', 'invalid port format: invalid host port web in web:80'],
  ];
  for (const [spec, message] of bad) {
    test(`${spec} → ${message}`, () => {
      oneProblem({ image: 'a', ports: [spec] }, ['ports', 0], message);
    });
  }
});

describe('network', () => {
  for (const network of ['bridge', 'host', 'none', 'container:db', 'my-network']) {
    test(`${network} is kept`, () => {
      assert.equal(value({ image: 'a', network }).network, network);
    });
  }
  test('empty is the Docker default', () => {
    assert.equal(value({ image: 'a', network: '' }).network, undefined);
  });
  test('container: without a name is a problem', () => {
    oneProblem({ image: 'a', network: 'container:' }, ['network'], 'invalid network: container: (missing container name or id)');
  });
});

describe('restartPolicy', () => {
  const good: Array<[string, DagContainer['restartPolicy']]> = [
    ['no', 'no'],
    ['always', 'always'],
    ['unless-stopped', 'unless-stopped'],
    [' Always ', 'always'],
    ['', undefined],
  ];
  for (const [input, policy] of good) {
    test(`${JSON.stringify(input)} → ${policy}`, () => {
      assert.equal(value({ image: 'a', restartPolicy: input }).restartPolicy, policy);
    });
  }
  for (const input of ['on-failure', 'never']) {
    test(`${input} is rejected`, () => {
      oneProblem({ image: 'a', restartPolicy: input }, ['restartPolicy'], `invalid restartPolicy: ${input} (supported: no, always, unless-stopped)`);
    });
  }
});

describe('platform', () => {
  const good: Array<[string, string]> = [
    ['linux/amd64', 'linux/amd64'],
    ['linux/arm64/v8', 'linux/arm64/v8'],
    ['arm64', 'linux/arm64'],
    ['linux/x86_64', 'linux/amd64'],
    ['armhf', 'linux/arm/v7'],
  ];
  for (const [input, platform] of good) {
    test(`${input} → ${platform}`, () => {
      assert.equal(value({ image: 'a', platform: input }).platform, platform);
    });
  }
  for (const input of ['linux/foo', 'amd65', 'solaris/amd64/v1/x']) {
    test(`${input} is rejected`, () => {
      oneProblem({ image: 'a', platform: input }, ['platform'], `failed to parse platform ${input}: "${input}": unknown operating system or architecture: invalid argument`);
    });
  }
});

describe('startup and command', () => {
  test('defaults to keepalive', () => {
    assert.equal(value({ image: 'a' }).startup, 'keepalive');
  });
  for (const [input, mode] of [
    ['keepalive', 'keepalive'],
    ['entrypoint', 'entrypoint'],
    [' EntryPoint ', 'entrypoint'],
  ] as const) {
    test(`${JSON.stringify(input)} → ${mode}`, () => {
      assert.equal(value({ image: 'a', startup: input }).startup, mode);
    });
  }
  test('command with a command list', () => {
    const c = value({ image: 'redis', startup: 'Command', command: ['redis-server', '--port', '6380'] });
    assert.equal(c.startup, 'command');
    assert.deepEqual(c.command, ['redis-server', '--port', '6380']);
  });
  test('an unknown mode is rejected, lower-cased', () => {
    oneProblem({ image: 'a', startup: ' Daemon ' }, ['startup'], 'invalid startup mode: daemon');
  });
  test('command mode without a command: problem on startup', () => {
    oneProblem({ image: 'a', startup: 'command' }, ['startup'], "startup 'command' requires non-empty command array");
  });
  test('command mode with an empty command: problem on command', () => {
    oneProblem({ image: 'a', startup: 'command', command: [] }, ['command'], "startup 'command' requires non-empty command array");
  });
});

describe('waitFor', () => {
  for (const [input, mode] of [
    ['running', 'running'],
    ['healthy', 'healthy'],
    [' HEALTHY ', 'healthy'],
    ['', 'running'],
  ] as const) {
    test(`${JSON.stringify(input)} → ${mode}`, () => {
      assert.equal(value({ image: 'a', waitFor: input }).waitFor, mode);
    });
  }
  test('an unknown mode is rejected', () => {
    oneProblem({ image: 'a', waitFor: 'Ready' }, ['waitFor'], 'invalid waitFor mode: ready');
  });
});

describe('logPattern', () => {
  test('a valid pattern is kept as written', () => {
    assert.equal(value({ image: 'a', logPattern: 'ready to accept connections' }).logPattern, 'ready to accept connections');
  });
  test('a blank pattern is absent', () => {
    assert.equal(value({ image: 'a', logPattern: '  ' }).logPattern, undefined);
  });
  test("Go's leading flag group (?i) is accepted and compiled as a flag", () => {
    assert.equal(value({ image: 'a', logPattern: '(?i)ready' }).logPattern, '(?i)ready');
    assert.equal(compileLogPattern('(?i)ready').test('Server READY'), true);
    assert.equal(compileLogPattern('ready').test('Server READY'), false);
  });
  const bad: Array<[string, string]> = [
    // Go's regexp/syntax wording, as Dagu prints it.
    ['(abc', 'invalid logPattern regex: error parsing regexp: missing closing ): `(abc`'],
    ['[a-', 'invalid logPattern regex: error parsing regexp: missing closing ]: `[a-`'],
    ['a**', 'invalid logPattern regex: error parsing regexp: invalid nested repetition operator: `**`'],
  ];
  for (const [pattern, message] of bad) {
    test(`${pattern} → ${message}`, () => {
      oneProblem({ image: 'a', logPattern: pattern }, ['logPattern'], message);
    });
  }
});

describe('all problems together', () => {
  test('every field is checked and no value is returned', () => {
    const { value: v, problems } = build({
      foo: 1,
      keepContainer: 'yes',
      pullPolicy: 'x',
      volumes: ['bad'],
      ports: ['1:2:3:4'],
      restartPolicy: 'on-failure',
      platform: 'nope',
      startup: 'x',
      waitFor: 'y',
      logPattern: '(',
    });
    assert.equal(v, undefined);
    assert.deepEqual(
      problems.map((p) => p.path),
      [
        'container.foo',
        'container.keepContainer',
        'container.image',
        'container.pullPolicy',
        'container.volumes[0]',
        'container.ports[0]',
        'container.restartPolicy',
        'container.platform',
        'container.startup',
        'container.waitFor',
        'container.logPattern',
      ],
    );
  });

  test('paths use the ctx path given', () => {
    const { problems } = buildDagContainer({ image: 'a', Volumes: ['x'] }, locate, { dir: DIR, lookup, path: 'Container' });
    assert.deepEqual(problems, [{ path: 'Container.Volumes[0]', message: 'invalid volume format: x', place: placeOf(['Volumes', 0]) }]);
  });
});

describe('DagContainerSchema', () => {
  test('accepts keys in any letter case', () => {
    assert.equal(schemaValidator().Check({ IMAGE: 'a', KeepContainer: true, workdir: '/w' }), true);
  });
  test('rejects unknown keys and weak types', () => {
    assert.equal(schemaValidator().Check({ image: 'a', foo: 1 }), false);
    assert.equal(schemaValidator().Check({ image: 'a', keepContainer: 'true' }), false);
    assert.equal(schemaValidator().Check({ image: 'a', ports: [8080] }), false);
  });
});
