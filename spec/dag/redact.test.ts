// The run's stored copy of its DAG file holds no registry credentials written in the file, and a
// retry gets them back from the file on disk.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED, redactDefinitionText, restoreDefinitionText } from '../../lib/dag/history/redact.js';
import { isSkiffError } from '../../lib/common/errors.js';

const DAG = `# pulls from two registries
registryAuths:
  "127.0.0.1:5001":
    username: tester
    password: "s3cret-pw"
  ghcr.io: "Z2g6dG9rZW4="
  quay.io:
    username: bot
    password: \${QUAY_PASSWORD}
steps:
  - name: a
    command: echo password   # not a credential
`;

describe('stored definitions', () => {
  it('inline registry credentials are replaced; ${VAR} references, comments and the rest stay', () => {
    const { text, redacted } = redactDefinitionText(DAG);
    assert.doesNotMatch(text, /s3cret-pw|Z2g6dG9rZW4=/);
    assert.match(text, /password: \$\{QUAY_PASSWORD\}/);
    assert.match(text, /# pulls from two registries/);
    assert.match(text, /command: echo password +# not a credential/);
    assert.equal(text.split(REDACTED).length - 1, 2);
    assert.deepEqual(redacted, [['registryAuths', '127.0.0.1:5001', 'password'], ['registryAuths', 'ghcr.io']]);
  });

  it('the whole value as one inline config.json document is taken out too; a file without credentials is kept byte for byte', () => {
    const whole = 'registryAuths: \'{"auths":{"x.io":{"auth":"dTpw"}}}\'\nsteps:\n  - echo hi\n';
    assert.deepEqual(redactDefinitionText(whole).redacted, [['registryAuths']]);
    assert.doesNotMatch(redactDefinitionText(whole).text, /dTpw/);
    const plain = 'registryAuths: ${DOCKER_AUTH_CONFIG}\nsteps:\n  - echo hi   # as written\n';
    assert.deepEqual(redactDefinitionText(plain), { text: plain, redacted: [] });
  });

  it('a retry puts them back from the file as it is now', () => {
    const { text, redacted } = redactDefinitionText(DAG);
    const restored = restoreDefinitionText(text, redacted, DAG, '/dags/pull.yaml');
    assert.match(restored, /password: "?s3cret-pw"?/);
    assert.match(restored, /ghcr.io: "?Z2g6dG9rZW4="?/);
  });

  it('a file that lost them is an error naming the file and the place, with what to do', () => {
    const { text, redacted } = redactDefinitionText(DAG);
    assert.throws(
      () => restoreDefinitionText(text, redacted, DAG.replace('"s3cret-pw"', '${PW}'), '/dags/pull.yaml'),
      (err: unknown) =>
        isSkiffError(err) && err.kind === 'config' && /\/dags\/pull\.yaml \(registryAuths\.127\.0\.0\.1:5001\.password\)/.test(err.message) && /environment variable/.test(err.hint ?? ''),
    );
  });
});
