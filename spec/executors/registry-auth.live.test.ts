// Registry credentials (docs/dagu-behavior.md §5, docs/engine-api.md §5, examples/seed-001 "Registry
// Authentication"), live against the loopback registry with htpasswd: every way of giving
// credentials pulls the private image, wrong or missing credentials fail clearly, and no form of
// the secret ever shows in the output, the report or the run's files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../../lib/engine/index.js';
import { decodeAuthField, encodeRegistryAuth } from '../../lib/engine/auth.js';
import { firstOf, fromConfigDocument, fromDockerConfigFile, fromMap, registryOf } from '../../lib/engine/credentials.js';
import { engineEnv, liveEngine } from '../support/live.js';
import { allText, type CliResult, leftovers, REGISTRY_IMAGE_LOCK, removeTempDirs, skiff, tempDir, withImageLock, writeDag } from '../support/skiff-cli.js';

const REGISTRY = engineEnv.SKIFF_AUTH_REGISTRY!;
const IMAGE = `${REGISTRY}/busybox:latest`;
const USER = engineEnv.SKIFF_REGISTRY_USER!;
const PASSWORD = engineEnv.SKIFF_REGISTRY_PASSWORD!;
const AUTH_B64 = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const WRONG = 'not-the-password+/';
const PID = process.pid;

let engine: Engine;
let dir: string;
const runIds: string[] = [];

before(async () => {
  engine = await liveEngine();
  dir = await tempDir('registry-auth');
});
after(async () => {
  for (const id of runIds) for (const c of await leftovers(engine, id)) await engine.containers.remove(c.Id, { force: true });
  await engine.close();
  await removeTempDirs();
});

function show(result: CliResult): string {
  return `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** Every form a secret could leak in: as is, base64 of user:password, the X-Registry-Auth value. */
function secretForms(password: string): string[] {
  const header = encodeRegistryAuth({ username: USER, password }, REGISTRY)!;
  return [
    password,
    Buffer.from(`${USER}:${password}`).toString('base64'),
    Buffer.from(password).toString('base64'),
    header,
    header.replace(/-/g, '+').replace(/_/g, '/'),
    Buffer.from(JSON.stringify({ username: USER, password, serveraddress: REGISTRY })).toString('base64'),
  ];
}

async function assertNoSecrets(result: CliResult): Promise<void> {
  const places = { stdout: result.stdout, stderr: result.stderr, report: result.reportText, 'the state dir': await allText(result.stateDir) };
  for (const password of [PASSWORD, WRONG]) {
    for (const [where, text] of Object.entries(places)) {
      for (const form of secretForms(password)) assert.ok(!text.includes(form), `a form of a password appears in ${where}`);
    }
  }
}

/** The DAG-level container from the private registry, with this `registryAuths` (YAML) on top. */
function privateDag(registryAuths: string): string {
  return `${registryAuths}
container:
  image: ${IMAGE}
steps:
  - echo pulled-and-ran
`;
}

/**
 * Removes the image locally, runs the DAG (so the run must pull it), and returns the result
 * with whether the image is there afterwards, all under the lock the private-image tests share.
 */
async function pullRun(slug: string, yaml: string, env: Record<string, string | undefined> = {}): Promise<CliResult & { imageAfter: boolean }> {
  const file = await writeDag(dir, `ra-${slug}-${PID}.yaml`, yaml);
  return withImageLock(REGISTRY_IMAGE_LOCK, async () => {
    await engine.images.remove(IMAGE, { force: true });
    try {
      const result = await skiff(['run', file], { env });
      runIds.push(...result.runIds);
      const imageAfter = (await engine.images.find(IMAGE)) !== undefined;
      await assertNoSecrets(result);
      return { ...result, imageAfter };
    } finally {
      await engine.images.remove(IMAGE, { force: true });
    }
  });
}

async function assertPulled(result: CliResult & { imageAfter: boolean }): Promise<void> {
  assert.equal(result.code, 0, show(result));
  assert.equal(result.report?.status, 'succeeded');
  assert.match(result.stdout, new RegExp(`pulled ${IMAGE.replace(/\./g, '\\.')}`));
  assert.ok(result.imageAfter, 'the image was pulled');
  assert.equal(await readFile(result.report!.steps[0]!.stdoutFile!, 'utf8'), 'pulled-and-ran\n');
}

/** A docker config directory holding this config.json. */
async function dockerConfig(config: unknown): Promise<string> {
  const configDir = await tempDir('docker-config');
  await writeFile(join(configDir, 'config.json'), JSON.stringify(config));
  return configDir;
}

/**
 * `docker-credential-skifftest` in a directory of its own: answers `get` for the private
 * registry with the test credentials, "credentials not found" for anything else, and notes
 * every server key it was asked for.
 */
async function credentialHelper(): Promise<{ path: string; asked: () => Promise<string[]> }> {
  const binDir = await tempDir('helper-bin');
  await writeFile(join(binDir, 'answer.json'), JSON.stringify({ ServerURL: REGISTRY, Username: USER, Secret: PASSWORD }));
  const script = `#!/bin/sh
# docker-credential-skifftest: a credential helper for the tests (the "get" action only)
[ "$1" = get ] || { echo "unsupported action: $1"; exit 1; }
key=$(cat)
printf '%s\\n' "$key" >> '${binDir}/asked'
if [ "$key" = '${REGISTRY}' ]; then cat '${binDir}/answer.json'; exit 0; fi
echo "credentials not found in native keychain"
exit 1
`;
  await writeFile(join(binDir, 'docker-credential-skifftest'), script);
  await chmod(join(binDir, 'docker-credential-skifftest'), 0o755);
  return {
    path: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    asked: async () => (await readFile(join(binDir, 'asked'), 'utf8').catch(() => '')).split('\n').filter(Boolean),
  };
}

// ---------------------------------------------------------------------------------------------

describe('registryAuths in the DAG', () => {
  test('host → {username, password}', async () => {
    const result = await pullRun('userpass', privateDag(`registryAuths:\n  "${REGISTRY}":\n    username: ${USER}\n    password: \${REGISTRY_PASSWORD}`), {
      REGISTRY_PASSWORD: PASSWORD,
    });
    await assertPulled(result);
  });

  test('host → {auth: base64(user:password)}: decoded by skiff, so the pull authenticates', async () => {
    const result = await pullRun('auth', privateDag(`registryAuths:\n  "${REGISTRY}":\n    auth: \${REGISTRY_AUTH}`), { REGISTRY_AUTH: AUTH_B64 });
    await assertPulled(result);
    // The value has + and /, which a base64url decoder would get wrong.
    assert.match(AUTH_B64, /[+/]/);
  });

  test('host → a JSON string {"username": …, "password": …}', async () => {
    const result = await pullRun(
      'json-string',
      privateDag(`registryAuths:\n  "${REGISTRY}": |\n    {\n      "username": "${USER}",\n      "password": "\${REGISTRY_PASSWORD}"\n    }`),
      { REGISTRY_PASSWORD: PASSWORD },
    );
    await assertPulled(result);
  });

  test('the whole value as one config.json document: registryAuths: ${DOCKER_AUTH_CONFIG}', async () => {
    const result = await pullRun('document', privateDag('registryAuths: ${DOCKER_AUTH_CONFIG}'), {
      DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [REGISTRY]: { auth: AUTH_B64 } } }),
    });
    await assertPulled(result);
  });

  test("the DAG's entry comes before DOCKER_AUTH_CONFIG (the seed's priority)", async () => {
    const result = await pullRun('priority', privateDag(`registryAuths:\n  "${REGISTRY}":\n    username: ${USER}\n    password: \${REGISTRY_PASSWORD}`), {
      REGISTRY_PASSWORD: PASSWORD,
      DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [REGISTRY]: { auth: Buffer.from(`${USER}:${WRONG}`).toString('base64') } } }),
    });
    await assertPulled(result);
  });
});

describe('credentials from outside the DAG', () => {
  test('DOCKER_AUTH_CONFIG with no registryAuths at all (the seed\'s promise)', async () => {
    const result = await pullRun('env-only', privateDag(''), { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [REGISTRY]: { auth: AUTH_B64 } } }) });
    await assertPulled(result);
  });

  test("the user's docker config file: $DOCKER_CONFIG/config.json with auths", async () => {
    const result = await pullRun('config-file', privateDag(''), { DOCKER_CONFIG: await dockerConfig({ auths: { [REGISTRY]: { auth: AUTH_B64 } } }) });
    await assertPulled(result);
  });

  test('a credential helper named by credsStore (docker-credential-skifftest on PATH, "get" protocol)', async () => {
    const helper = await credentialHelper();
    const result = await pullRun('creds-store', privateDag(''), {
      PATH: helper.path,
      DOCKER_CONFIG: await dockerConfig({ auths: { [REGISTRY]: {} }, credsStore: 'skifftest' }),
    });
    await assertPulled(result);
    assert.deepEqual(await helper.asked(), [REGISTRY], 'asked once, with the registry host as the server key');
  });

  test('a credential helper named by credHelpers for this registry', async () => {
    const helper = await credentialHelper();
    const result = await pullRun('cred-helpers', privateDag(''), {
      PATH: helper.path,
      DOCKER_CONFIG: await dockerConfig({ credHelpers: { [REGISTRY]: 'skifftest' } }),
    });
    await assertPulled(result);
    assert.deepEqual(await helper.asked(), [REGISTRY]);
  });
});

describe('failures', () => {
  test('a wrong password: one clear error naming the registry, the run fails, nothing pulled, no secret shown', async () => {
    const result = await pullRun('wrong', privateDag(`registryAuths:\n  "${REGISTRY}":\n    username: ${USER}\n    password: \${REGISTRY_PASSWORD}`), {
      REGISTRY_PASSWORD: WRONG,
    });
    assert.equal(result.code, 1, show(result));
    assert.equal(result.report?.phase, 'startup');
    const error = result.report?.error ?? '';
    assert.ok(error.includes(REGISTRY), `the error names the registry: ${error}`);
    assert.match(error, /unauthorized: authentication required/);
    assert.ok(result.report?.steps.every((s) => s.status === 'not_started'));
    assert.equal(result.imageAfter, false, 'no image pulled');
    assert.equal(result.stderr.split('\n').filter((l) => l.includes('authentication required')).length, 1, `one error line\n${result.stderr}`);
  });

  test('a wrong password for a step-level docker image: that step fails with the same error', async () => {
    const yaml = `registryAuths:\n  "${REGISTRY}":\n    username: ${USER}\n    password: \${REGISTRY_PASSWORD}\nsteps:\n  - name: private\n    executor:\n      type: docker\n      config:\n        image: ${IMAGE}\n        autoRemove: true\n    command: echo never\n`;
    const result = await pullRun('wrong-step', yaml, { REGISTRY_PASSWORD: WRONG });
    assert.equal(result.code, 1, show(result));
    assert.equal(result.report?.phase, 'step');
    assert.equal(result.report?.steps[0]?.status, 'failed');
    assert.ok(result.report?.steps[0]?.error?.includes(REGISTRY));
    assert.match(result.report?.steps[0]?.error ?? '', /unauthorized: authentication required/);
    assert.equal(result.imageAfter, false);
  });

  test('a DOCKER_AUTH_CONFIG that is not JSON: the pull fails saying so and quoting none of it; a run that pulls nothing is unaffected', async () => {
    const result = await pullRun('not-json', privateDag(''), { DOCKER_AUTH_CONFIG: AUTH_B64 });
    assert.equal(result.code, 1, show(result));
    assert.equal(result.report?.error, 'invalid DOCKER_AUTH_CONFIG format: not valid JSON');
    assert.equal(result.imageAfter, false);
    for (const text of [result.stdout, result.stderr, result.reportText, await allText(result.stateDir)]) {
      assert.ok(!text.includes(AUTH_B64.slice(0, 10)), 'no part of the value is quoted');
    }
    const file = await writeDag(dir, `ra-local-${PID}.yaml`, 'steps:\n  - echo local\n');
    const local = await skiff(['run', file], { env: { DOCKER_AUTH_CONFIG: AUTH_B64 } });
    assert.equal(local.code, 0, show(local));
  });

  test('no credentials at all: the registry says "no basic auth credentials"', async () => {
    const result = await pullRun('none', privateDag(''));
    assert.equal(result.code, 1, show(result));
    assert.equal(result.report?.phase, 'startup');
    assert.ok((result.report?.error ?? '').includes(REGISTRY));
    assert.match(result.report?.error ?? '', /no basic auth credentials/);
    assert.equal(result.imageAfter, false);
  });
});

// ---------------------------------------------------------------------------------------------
// Docker Hub's names, without a pull (no public registry here)

describe("Docker Hub's aliases name one registry", () => {
  const cred = { username: 'hub-user', password: 'hub-pass' };

  test('the registry of alpine, library/alpine, docker.io/…, index.docker.io/… is docker.io', () => {
    for (const image of ['alpine', 'alpine:3', 'library/alpine', 'myorg/app:1', 'docker.io/library/alpine', 'index.docker.io/library/alpine', 'registry-1.docker.io/library/alpine']) {
      assert.equal(registryOf(image), 'docker.io', image);
    }
    assert.equal(registryOf(IMAGE), REGISTRY);
  });

  test('a registryAuths key https://index.docker.io/v1/ (or index.docker.io, registry-1.docker.io) is used for alpine', async () => {
    for (const key of ['https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io', 'docker.io']) {
      const chain = firstOf(fromMap({ [key]: cred }));
      assert.deepEqual(await chain(registryOf('alpine')), cred, key);
      assert.equal(await chain(registryOf(IMAGE)), undefined, `${key} is not sent to ${REGISTRY}`);
    }
  });

  test('a config.json document keyed https://index.docker.io/v1/ (as `docker login` writes it) is used for alpine', async () => {
    const document = JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hub-user:hub-pass').toString('base64') } } });
    const found = await fromConfigDocument(document, 'DOCKER_AUTH_CONFIG')(registryOf('alpine'));
    assert.ok(found?.auth);
    assert.deepEqual(decodeAuthField(found.auth), cred);
    const configDir = await dockerConfig(JSON.parse(document));
    const fromFile = await fromDockerConfigFile({ DOCKER_CONFIG: configDir })(registryOf('alpine'));
    assert.deepEqual(decodeAuthField(fromFile!.auth!), cred);
  });

  test("a credential helper is asked for Docker Hub with the CLI's key https://index.docker.io/v1/", async () => {
    const helper = await credentialHelper();
    const configDir = await dockerConfig({ credsStore: 'skifftest' });
    const answer = await fromDockerConfigFile({ DOCKER_CONFIG: configDir, PATH: helper.path })(registryOf('alpine'));
    assert.equal(answer, undefined, '"credentials not found" means anonymous');
    assert.deepEqual(await helper.asked(), ['https://index.docker.io/v1/']);
  });
});


