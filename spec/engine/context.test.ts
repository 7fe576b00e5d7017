// Which engine: contexts chosen and read as the docker CLI does, and ssh:// URLs turned into the
// CLI's ssh command line. No engine needed: these read a context store written the way
// `docker context create` writes it, in a temp DOCKER_CONFIG.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { chooseContext, dockerConfigDir } from '../../lib/engine/context.js';
import { resolveEngineTarget, type EngineTarget } from '../../lib/engine/host.js';
import { isSkiffError } from '../../lib/engine/errors.js';
import { fromDockerConfigFile } from '../../lib/engine/credentials.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A DOCKER_CONFIG directory with a config.json and contexts stored as the docker CLI stores them. */
function configDir(config: object | string | undefined, contexts: Record<string, { meta: object | string; tls?: Record<string, string> }> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-ctx-'));
  dirs.push(dir);
  if (config !== undefined) writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  for (const [name, { meta, tls }] of Object.entries(contexts)) {
    const id = createHash('sha256').update(name).digest('hex');
    mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(join(dir, 'contexts', 'meta', id, 'meta.json'), typeof meta === 'string' ? meta : JSON.stringify(meta));
    if (tls) {
      mkdirSync(join(dir, 'contexts', 'tls', id, 'docker'), { recursive: true });
      for (const [file, text] of Object.entries(tls)) writeFileSync(join(dir, 'contexts', 'tls', id, 'docker', file), text);
    }
  }
  return dir;
}

/** meta.json as CLI 28 writes it (docs/engine-api.md §12.3). */
function meta(name: string, host: string, skipTlsVerify = false): object {
  return { Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: skipTlsVerify } } };
}

const STORE = {
  flag: { meta: meta('flag', 'unix:///run/flag.sock') },
  env: { meta: meta('env', 'unix:///run/env.sock') },
  current: { meta: meta('current', 'unix:///run/current.sock') },
};

function socketOf(target: EngineTarget): string {
  assert.equal(target.kind, 'unix');
  return target.kind === 'unix' ? target.socketPath : '';
}

describe('choosing the context, in the docker CLI order', () => {
  const DOCKER_CONFIG = configDir({ currentContext: 'current' }, STORE);

  it('--context wins over DOCKER_HOST, DOCKER_CONTEXT and currentContext', () => {
    const env = { DOCKER_CONFIG, DOCKER_HOST: 'unix:///run/host.sock', DOCKER_CONTEXT: 'env' };
    const target = resolveEngineTarget(env, { context: 'flag' });
    assert.equal(socketOf(target), '/run/flag.sock');
    assert.equal(target.context, 'flag');
  });

  it('--host wins over DOCKER_HOST and every context', () => {
    const env = { DOCKER_CONFIG, DOCKER_HOST: 'unix:///run/host.sock', DOCKER_CONTEXT: 'env' };
    const target = resolveEngineTarget(env, { host: 'unix:///run/dash-h.sock' });
    assert.equal(socketOf(target), '/run/dash-h.sock');
    assert.equal(target.context, undefined);
  });

  it('DOCKER_HOST wins over DOCKER_CONTEXT and currentContext (it means the default context)', () => {
    const env = { DOCKER_CONFIG, DOCKER_HOST: 'unix:///run/host.sock', DOCKER_CONTEXT: 'env' };
    assert.equal(socketOf(resolveEngineTarget(env)), '/run/host.sock');
    assert.deepEqual(chooseContext(env), { name: 'default', from: 'DOCKER_HOST' });
  });

  it('DOCKER_CONTEXT wins over currentContext', () => {
    assert.equal(socketOf(resolveEngineTarget({ DOCKER_CONFIG, DOCKER_CONTEXT: 'env' })), '/run/env.sock');
  });

  it('currentContext in $DOCKER_CONFIG/config.json is used when nothing else says', () => {
    assert.equal(socketOf(resolveEngineTarget({ DOCKER_CONFIG })), '/run/current.sock');
  });

  it('`default` (named or implied) is DOCKER_HOST, else the usual socket', () => {
    assert.equal(socketOf(resolveEngineTarget({ DOCKER_CONFIG: configDir(undefined) })), '/var/run/docker.sock');
    assert.equal(socketOf(resolveEngineTarget({ DOCKER_CONFIG, DOCKER_CONTEXT: 'default' })), '/var/run/docker.sock');
    assert.equal(socketOf(resolveEngineTarget({ DOCKER_CONFIG, DOCKER_HOST: 'unix:///run/host.sock' }, { context: 'default' })), '/run/host.sock');
  });

  it('the config directory is DOCKER_CONFIG, else ~/.docker from HOME', () => {
    assert.equal(dockerConfigDir({ DOCKER_CONFIG: '/cfg', HOME: '/home/u' }), '/cfg');
    assert.equal(dockerConfigDir({ HOME: '/home/u' }), '/home/u/.docker');
    const home = mkdtempSync(join(tmpdir(), 'skiff-home-'));
    dirs.push(home);
    mkdirSync(join(home, '.docker'));
    writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ currentContext: 'nowhere' }));
    assert.throws(() => resolveEngineTarget({ HOME: home }), /docker context "nowhere"/);
  });

  it('--host and --context together are refused, as by the docker CLI', () => {
    assert.throws(
      () => resolveEngineTarget({ DOCKER_CONFIG }, { host: 'unix:///x.sock', context: 'flag' }),
      (err: unknown) => isSkiffError(err, 'usage') && err.message === 'conflicting options: cannot specify both --host and --context',
    );
  });
});

describe('reading a context', () => {
  it('tcp with TLS material: https with the context CA and client certificate, verified', () => {
    const DOCKER_CONFIG = configDir(undefined, { remote: { meta: meta('remote', 'tcp://10.1.2.3:2376'), tls: { 'ca.pem': 'CA', 'cert.pem': 'CERT', 'key.pem': 'KEY' } } });
    const target = resolveEngineTarget({ DOCKER_CONFIG, DOCKER_CONTEXT: 'remote', DOCKER_TLS_VERIFY: '' });
    assert.equal(target.kind, 'tcp');
    if (target.kind !== 'tcp') return;
    assert.deepEqual([target.host, target.port], ['10.1.2.3', 2376]);
    assert.equal(target.tls?.verify, true);
    assert.deepEqual([target.tls?.ca?.toString(), target.tls?.cert?.toString(), target.tls?.key?.toString()], ['CA', 'CERT', 'KEY']);
  });

  it('SkipTLSVerify means TLS without verification; no TLS material and no skip means plain TCP', () => {
    const DOCKER_CONFIG = configDir(undefined, {
      skip: { meta: meta('skip', 'tcp://h:2376', true) },
      plain: { meta: meta('plain', 'tcp://h') },
    });
    const skip = resolveEngineTarget({ DOCKER_CONFIG }, { context: 'skip' });
    assert.ok(skip.kind === 'tcp' && skip.tls?.verify === false);
    const plain = resolveEngineTarget({ DOCKER_CONFIG }, { context: 'plain' });
    assert.ok(plain.kind === 'tcp' && plain.tls === undefined && plain.port === 2375);
  });

  it('the DOCKER_TLS variables belong to the default context only', () => {
    const DOCKER_CONFIG = configDir(undefined, { plain: { meta: meta('plain', 'tcp://h:2375') } });
    const target = resolveEngineTarget({ DOCKER_CONFIG, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }, { context: 'plain' });
    assert.ok(target.kind === 'tcp' && target.tls === undefined);
  });

  it('field names are matched without regard to case, as Go decodes them; an empty Host is the usual socket', () => {
    const DOCKER_CONFIG = configDir(undefined, {
      lower: { meta: { name: 'lower', endpoints: { docker: { host: 'unix:///run/lower.sock' } } } },
      empty: { meta: { Name: 'empty', Endpoints: { docker: {} } } },
    });
    assert.equal(socketOf(resolveEngineTarget({ DOCKER_CONFIG }, { context: 'lower' })), '/run/lower.sock');
    assert.equal(socketOf(resolveEngineTarget({ DOCKER_CONFIG }, { context: 'empty' })), '/var/run/docker.sock');
  });

  it('an ssh:// context gives the ssh command line', () => {
    const DOCKER_CONFIG = configDir(undefined, { box: { meta: meta('box', 'ssh://deploy@build.example:2200') } });
    const target = resolveEngineTarget({ DOCKER_CONFIG }, { context: 'box' });
    assert.ok(target.kind === 'ssh');
    assert.equal(target.context, 'box');
  });
});

describe('a missing or broken context is one clear error naming it', () => {
  const DOCKER_CONFIG = configDir(
    { currentContext: 'gone' },
    {
      garbled: { meta: '{"Name":"garbled","Endpoints":' },
      'no-docker': { meta: { Name: 'no-docker', Endpoints: { kubernetes: {} } } },
      'bad-host': { meta: meta('bad-host', 'http://h:1') },
    },
  );

  const cases: Array<[string, NodeJS.ProcessEnv, { context?: string }, RegExp]> = [
    ['missing, from currentContext', { DOCKER_CONFIG }, {}, /^docker context "gone" \(from currentContext in .*config\.json\) does not exist: there is no .*\/contexts\/meta\/[0-9a-f]{64}\/meta\.json$/],
    ['missing, from DOCKER_CONTEXT', { DOCKER_CONFIG, DOCKER_CONTEXT: 'nope' }, {}, /^docker context "nope" \(from DOCKER_CONTEXT\) does not exist/],
    ['missing, from --context', { DOCKER_CONFIG }, { context: 'nope' }, /^docker context "nope" \(from --context\) does not exist/],
    ['meta.json not JSON', { DOCKER_CONFIG }, { context: 'garbled' }, /^docker context "garbled" \(from --context\) is broken: .*meta\.json is not valid JSON/],
    ['no docker endpoint', { DOCKER_CONFIG }, { context: 'no-docker' }, /^docker context "no-docker" \(from --context\) is broken: .*has no docker endpoint$/],
    ['a host skiff cannot use', { DOCKER_CONFIG }, { context: 'bad-host' }, /^docker context "bad-host" \(.*meta\.json\): host http:\/\/h:1: unsupported scheme/],
    ['config.json not JSON', { DOCKER_CONFIG: configDir('{"currentContext": "x",') }, {}, /^cannot tell the current docker context: .*config\.json is not valid JSON \(at position \d+\)$/],
  ];
  for (const [what, env, selection, message] of cases) {
    it(what, () => {
      assert.throws(
        () => resolveEngineTarget(env, selection),
        (err: unknown) => isSkiffError(err, 'usage') && message.test(err.message) && !err.message.includes('\n'),
      );
    });
  }
});

describe('ssh:// URLs as the docker CLI runs them', () => {
  const ssh = (url: string, env: NodeJS.ProcessEnv = {}) => {
    const target = resolveEngineTarget({ ...env, DOCKER_HOST: url });
    assert.ok(target.kind === 'ssh');
    return target;
  };

  it('user, port and host become -l, -p and the destination, with dial-stdio as the command', () => {
    assert.deepEqual(ssh('ssh://deploy@build.example:2200').args, ['-o', 'ConnectTimeout=30', '-T', '-l', 'deploy', '-p', '2200', '--', 'build.example', 'docker', 'system', 'dial-stdio']);
    assert.deepEqual(ssh('ssh://build.example').args, ['-o', 'ConnectTimeout=30', '-T', '--', 'build.example', 'docker', 'system', 'dial-stdio']);
    assert.deepEqual(ssh('ssh://[::1]:22').args.slice(3), ['-p', '22', '--', '::1', 'docker', 'system', 'dial-stdio']);
  });

  it('a socket path goes to the far side docker as --host=unix://PATH, quoted for its shell when needed', () => {
    assert.deepEqual(ssh('ssh://me@h/run/user/1000/docker.sock').args.slice(-5), ['h', 'docker', '--host=unix:///run/user/1000/docker.sock', 'system', 'dial-stdio']);
    assert.equal(ssh('ssh://me@h/tmp/my%20docker.sock').args.at(-3), "'--host=unix:///tmp/my docker.sock'");
    assert.equal(ssh('ssh://me@h/').socketPath, undefined);
  });

  it('SKIFF_SSH_OPTS goes first; a ConnectTimeout of its own replaces skiff\'s', () => {
    assert.deepEqual(ssh('ssh://h', { SKIFF_SSH_OPTS: ' -F /etc/skiff/ssh_config  -i key ' }).args.slice(0, 6), ['-F', '/etc/skiff/ssh_config', '-i', 'key', '-o', 'ConnectTimeout=30']);
    assert.deepEqual(ssh('ssh://h', { SKIFF_SSH_OPTS: '-o ConnectTimeout=5' }).args.slice(0, 3), ['-o', 'ConnectTimeout=5', '-T']);
  });

  it('a password, a query or no host is refused with the URL named', () => {
    for (const [url, message] of [
      ['ssh://me:secret@h', /DOCKER_HOST=ssh:\/\/me:secret@h: a password in an ssh URL is not supported/],
      ['ssh://h?x=1', /takes no query or fragment/],
      ['ssh://', /(no host name|not a valid ssh URL)/],
    ] as const) {
      assert.throws(() => resolveEngineTarget({ DOCKER_HOST: url }), (err: unknown) => isSkiffError(err, 'usage') && message.test(err.message));
    }
  });
});

describe('DOCKER_CONFIG for credentials too', () => {
  it('the auths of $DOCKER_CONFIG/config.json are read, not ~/.docker', async () => {
    const DOCKER_CONFIG = configDir({ auths: { 'registry.example': { auth: Buffer.from('u:p').toString('base64') } } });
    const found = await fromDockerConfigFile({ DOCKER_CONFIG, HOME: '/nonexistent' })('registry.example');
    assert.equal(found?.auth, Buffer.from('u:p').toString('base64'));
  });
});
