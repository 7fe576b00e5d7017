import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { Compile } from 'typebox/compile';
import type { Place } from '../../lib/common/errors.js';
import type { Locate } from '../../lib/common/problem.js';
import type { Lookup } from '../../lib/common/expand.js';
import { RegistryAuthsSchema, buildRegistryAuths } from '../../lib/dag/registry-auths.js';

// A place that encodes the relative path it was asked for, so tests can check where problems point.
const placeOf = (path: ReadonlyArray<string | number>): Place => ({ file: `dag.yaml#${JSON.stringify(path)}`, line: 1, col: 1 });
const locate: Locate = (path) => placeOf(path);

const CONFIG_JSON = '{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}}}';
const VARS: Record<string, string> = {
  DOCKER_USERNAME: 'hubuser',
  DOCKER_PASSWORD: 'hubpass',
  GITHUB_USER: 'octocat',
  GITHUB_TOKEN: 'ghp_token',
  GCR_AUTH_BASE64: 'Z2NyOnNlY3JldA==',
  GCR_AUTH: 'Z2NyOmF1dGg=',
  ECR_AUTH_TOKEN: 'ecr-token',
  DOCKERHUB_USER: 'hub2',
  DOCKERHUB_TOKEN: 'hub2-token',
  DOCKER_AUTH_CONFIG: CONFIG_JSON,
};
const lookup: Lookup = (name) => VARS[name];

function build(raw: unknown, vars: Lookup = lookup) {
  return buildRegistryAuths(raw, locate, { lookup: vars, path: 'registryAuths' });
}
const nothing: Lookup = () => undefined;

let compiled: ReturnType<typeof Compile> | undefined;
function schemaValidator(): ReturnType<typeof Compile> {
  compiled ??= Compile(RegistryAuthsSchema);
  return compiled;
}

/** The `registryAuths` values of examples/seed-001, in order. */
const SEEDS = parse(`
structured:
  docker.io:
    username: \${DOCKER_USERNAME}
    password: \${DOCKER_PASSWORD}
  ghcr.io:
    username: \${GITHUB_USER}
    password: \${GITHUB_TOKEN}
environment: \${DOCKER_AUTH_CONFIG}
pre-encoded:
  gcr.io:
    auth: \${GCR_AUTH_BASE64} # base64(username:password)
per-registry-json:
  # JSON string for specific registry
  "123456789012.dkr.ecr.us-east-1.amazonaws.com": |
    {
      "username": "AWS",
      "password": "\${ECR_AUTH_TOKEN}"
    }
multi-registry:
  docker.io:
    username: \${DOCKERHUB_USER}
    password: \${DOCKERHUB_TOKEN}
  ghcr.io:
    username: \${GITHUB_USER}
    password: \${GITHUB_TOKEN}
  gcr.io:
    auth: \${GCR_AUTH}
`) as Record<string, unknown>;

describe('examples/seed-001 registryAuths', () => {
  for (const [name, raw] of Object.entries(SEEDS)) {
    test(`${name}: loads without problems and fits the schema`, () => {
      assert.deepEqual(build(raw).problems, []);
      assert.equal(schemaValidator().Check(raw), true);
    });
  }

  test('structured: username/password per host, expanded', () => {
    assert.deepEqual(build(SEEDS.structured).value, {
      form: 'map',
      entries: {
        'docker.io': { username: 'hubuser', password: 'hubpass' },
        'ghcr.io': { username: 'octocat', password: 'ghp_token' },
      },
    });
  });

  test('environment: ${DOCKER_AUTH_CONFIG} becomes the config.json document', () => {
    assert.deepEqual(build(SEEDS.environment).value, { form: 'json', document: CONFIG_JSON });
  });

  test('environment: an unset DOCKER_AUTH_CONFIG is no registryAuths at all, without a problem', () => {
    assert.deepEqual(build(SEEDS.environment, nothing), { problems: [] });
  });

  test('pre-encoded: auth is kept', () => {
    assert.deepEqual(build(SEEDS['pre-encoded']).value, { form: 'map', entries: { 'gcr.io': { auth: 'Z2NyOnNlY3JldA==' } } });
  });

  test('per-registry JSON: parsed, then its fields expanded', () => {
    assert.deepEqual(build(SEEDS['per-registry-json']).value, {
      form: 'map',
      entries: { '123456789012.dkr.ecr.us-east-1.amazonaws.com': { username: 'AWS', password: 'ecr-token' } },
    });
  });

  test('multi-registry: three hosts', () => {
    assert.deepEqual(build(SEEDS['multi-registry']).value, {
      form: 'map',
      entries: {
        'docker.io': { username: 'hub2', password: 'hub2-token' },
        'ghcr.io': { username: 'octocat', password: 'ghp_token' },
        'gcr.io': { auth: 'Z2NyOmF1dGg=' },
      },
    });
  });

  test('structured with unset variables: the entry stays, without credentials', () => {
    assert.deepEqual(build(SEEDS.structured, nothing).value, { form: 'map', entries: { 'docker.io': {}, 'ghcr.io': {} } });
  });
});

describe('map of host → object', () => {
  test('identitytoken and registrytoken are kept; other keys are ignored', () => {
    const { value, problems } = build({
      'r.example.com': { identitytoken: 'id-tok', registrytoken: 'reg-tok', email: 'me@example.com', serveraddress: 'x' },
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(value, { form: 'map', entries: { 'r.example.com': { identitytoken: 'id-tok', registrytoken: 'reg-tok' } } });
  });

  test('credential keys match in any letter case', () => {
    assert.deepEqual(build({ 'docker.io': { Username: 'u', PASSWORD: 'p' } }).value, {
      form: 'map',
      entries: { 'docker.io': { username: 'u', password: 'p' } },
    });
  });

  test('a number or bool value is taken as text', () => {
    assert.deepEqual(build({ 'docker.io': { username: 'u', password: 123456 } }).value, {
      form: 'map',
      entries: { 'docker.io': { username: 'u', password: '123456' } },
    });
  });

  test('a null host value is an entry without credentials', () => {
    assert.deepEqual(build({ 'docker.io': null }).value, { form: 'map', entries: { 'docker.io': {} } });
  });

  test('an empty map is an empty map form', () => {
    assert.deepEqual(build({}).value, { form: 'map', entries: {} });
  });

  test('a map as a credential value is a problem on that key', () => {
    assert.deepEqual(build({ 'docker.io': { password: { from: 'vault' } } }), {
      problems: [
        { path: 'registryAuths.docker.io.password', message: 'invalid type: map[string]interface {}', place: placeOf(['docker.io', 'password']) },
      ],
    });
  });

  const badHosts: Array<[unknown, string]> = [
    [['u', 'p'], 'invalid type: []interface {}'],
    [42, 'invalid type: int'],
    [true, 'invalid type: bool'],
  ];
  for (const [data, message] of badHosts) {
    test(`a host value ${JSON.stringify(data)} → ${message}`, () => {
      assert.deepEqual(build({ 'ghcr.io': data }), {
        problems: [{ path: 'registryAuths.ghcr.io', message, place: placeOf(['ghcr.io']) }],
      });
    });
  }
});

describe('map of host → string', () => {
  test('a plain string is a pre-encoded auth, expanded', () => {
    assert.deepEqual(build({ 'gcr.io': '${GCR_AUTH}' }).value, { form: 'map', entries: { 'gcr.io': { auth: 'Z2NyOmF1dGg=' } } });
  });

  test('an empty string is an entry without credentials', () => {
    assert.deepEqual(build({ 'gcr.io': '${UNSET}' }).value, { form: 'map', entries: { 'gcr.io': {} } });
  });

  test('JSON field names match in any letter case', () => {
    assert.deepEqual(build({ 'r.io': '{"Username": "u", "PASSWORD": "p", "IdentityToken": "t", "Email": "e"}' }).value, {
      form: 'map',
      entries: { 'r.io': { username: 'u', password: 'p', identitytoken: 't' } },
    });
  });

  test('a token holding quotes cannot break the JSON: fields are expanded after parsing', () => {
    const vars: Lookup = (name) => (name === 'TOKEN' ? 'a"b\\c' : undefined);
    assert.deepEqual(build({ 'r.io': '{"username": "AWS", "password": "${TOKEN}"}' }, vars).value, {
      form: 'map',
      entries: { 'r.io': { username: 'AWS', password: 'a"b\\c' } },
    });
  });

  test('a variable holding the whole JSON is parsed after expansion', () => {
    const vars: Lookup = (name) => (name === 'CREDS' ? '{"username": "u", "password": "p"}' : undefined);
    assert.deepEqual(build({ 'r.io': '${CREDS}' }, vars).value, { form: 'map', entries: { 'r.io': { username: 'u', password: 'p' } } });
  });

  test('JSON that only becomes valid after expansion is accepted', () => {
    const vars: Lookup = (name) => (name === 'PW' ? '"p"' : undefined);
    assert.deepEqual(build({ 'r.io': '{"username": "u", "password": ${PW}}' }, vars).value, {
      form: 'map',
      entries: { 'r.io': { username: 'u', password: 'p' } },
    });
  });

  const bad: Array<[string, string]> = [
    ['{"username": "u", "password": "SECRETVALUE"', 'registry credentials start with { but are not valid JSON'],
    ['{"username": "u", "password": 5}', 'registry credential field password must be a JSON string, got int'],
  ];
  for (const [text, message] of bad) {
    test(`${text} → ${message}`, () => {
      assert.deepEqual(build({ 'r.io': text }), { problems: [{ path: 'registryAuths.r.io', message, place: placeOf(['r.io']) }] });
    });
  }
});

describe('whole value a string (DOCKER_AUTH_CONFIG)', () => {
  test('a literal config.json document', () => {
    assert.deepEqual(build('{"auths": {}}').value, { form: 'json', document: '{"auths": {}}' });
  });

  test('a blank value is absent', () => {
    assert.deepEqual(build('   '), { problems: [] });
  });

  test('not JSON → invalid DOCKER_AUTH_CONFIG format', () => {
    const { value, problems } = build('${BROKEN}', (n) => (n === 'BROKEN' ? '{"auths": {"x": {"auth": "SECRETVALUE"}}' : undefined));
    assert.equal(value, undefined);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, 'registryAuths');
    assert.deepEqual(problems[0]!.place, placeOf([]));
    assert.match(problems[0]!.message, /^invalid DOCKER_AUTH_CONFIG format: not valid JSON( \(at position \d+\))?$/);
  });

  test('JSON without an auths object → invalid DOCKER_AUTH_CONFIG format', () => {
    assert.deepEqual(build('{"credsStore": "desktop"}').problems.map((p) => p.message), ['invalid DOCKER_AUTH_CONFIG format: no "auths" object']);
    assert.deepEqual(build('{"auths": "x"}').problems.map((p) => p.message), ['invalid DOCKER_AUTH_CONFIG format: no "auths" object']);
  });

  test('JSON that is not an object → invalid DOCKER_AUTH_CONFIG format', () => {
    assert.deepEqual(build('["auths"]').problems.map((p) => p.message), ['invalid DOCKER_AUTH_CONFIG format: expected a JSON object, got []interface {}']);
  });
});

describe('other types', () => {
  const cases: Array<[unknown, string]> = [
    [['docker.io'], 'invalid type: []interface {}'],
    [5, 'invalid type: int'],
    [false, 'invalid type: bool'],
  ];
  for (const [raw, message] of cases) {
    test(`${JSON.stringify(raw)} → ${message}`, () => {
      assert.deepEqual(build(raw), { problems: [{ path: 'registryAuths', message, place: placeOf([]) }] });
    });
  }

  test('null is no registryAuths', () => {
    assert.deepEqual(build(null), { problems: [] });
  });
});

describe('secrets', () => {
  test('no problem message ever holds a credential', () => {
    const secret = 'SECRETVALUE';
    const vars: Lookup = (name) => (name === 'S' ? secret : undefined);
    const inputs: unknown[] = [
      `{"auths": {"x": {"auth": "${secret}"}`,
      '${S}',
      `[${JSON.stringify(secret)}]`,
      { 'r.io': `{"username": "${secret}", ` },
      { 'r.io': `{"username": "${secret}", "password": 1}` },
      { 'r.io': { password: [secret] } },
      { 'r.io': [secret] },
    ];
    for (const raw of inputs) {
      const { problems } = build(raw, vars);
      assert.ok(problems.length > 0, `expected a problem for ${JSON.stringify(raw)}`);
      for (const p of problems) assert.ok(!p.message.includes(secret), `secret leaked in: ${p.message}`);
    }
  });
});

describe('RegistryAuthsSchema', () => {
  test('accepts a string, host → object and host → string', () => {
    assert.equal(schemaValidator().Check('${DOCKER_AUTH_CONFIG}'), true);
    assert.equal(schemaValidator().Check({ 'docker.io': { username: 'u', password: 'p' }, 'gcr.io': 'abc' }), true);
  });
  test('rejects a list', () => {
    assert.equal(schemaValidator().Check(['docker.io']), false);
  });
});
