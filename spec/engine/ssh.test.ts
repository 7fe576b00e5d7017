// ssh's failures as a user reads them: one line (ssh's last word) and what to do, and no ssh
// on the PATH said so. No engine and no sshd needed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { sshFailure } from '../../lib/engine/ssh.js';
import { parseSshUrl } from '../../lib/engine/ssh-url.js';
import { repoRoot } from '../support/live.js';

const T = { timeout: 60_000 };
let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'skiff-ssh-unit-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('no ssh at all', () => {
  it('an ssh command missing from the PATH is said so, not a socket error', T, async () => {
    const script = join(work, 'no-ssh.mjs');
    const index = pathToFileURL(join(repoRoot, 'dist', 'lib', 'engine', 'index.js')).href;
    writeFileSync(script, `import { openEngine } from ${JSON.stringify(index)};\nconst engine = openEngine({ host: 'ssh://build.example' });\ntry { await engine.version(); } catch (err) { console.log(JSON.stringify({ kind: err.kind, message: err.message, hint: err.hint })); }\nawait engine.close();\n`);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [script], { env: { PATH: join(work, 'empty-path') }, timeout: 30_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    assert.deepEqual(JSON.parse(out), {
      kind: 'engine-unreachable',
      message: 'cannot reach the Docker engine at ssh://build.example: the ssh command is not on the PATH',
      hint: "install OpenSSH's client (Debian: apt-get install openssh-client)",
    });
  });
});

describe("ssh's failures in one line, with what to do", () => {
  const target = parseSshUrl('ssh://deploy@build.example:2200', 'DOCKER_HOST', {});
  const cases: Array<[string, number | null, string, RegExp, RegExp]> = [
    [
      'a changed host key: the banner is dropped, the verdict kept',
      255,
      '@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@@@@@\nIT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\nHost key for [build.example]:2200 has changed and you have requested strict checking.\nHost key verification failed.\n',
      /: Host key verification failed\.$/,
      /ssh-keyscan -p 2200 build\.example/,
    ],
    ['a refused key', 255, 'deploy@build.example: Permission denied (publickey).\r\n', /: deploy@build\.example: Permission denied \(publickey\)\.$/, /ssh -p 2200 deploy@build\.example.*ssh-agent/],
    ['no docker on the far side', 127, 'bash: line 1: docker: command not found\n', /: bash: line 1: docker: command not found$/, /docker CLI .*dial-stdio/],
    ['docker there, its engine not', 1, 'failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: no such file or directory\n', /dial unix/, /is dockerd running there/],
    ['no sshd there', 255, 'ssh: connect to host build.example port 2200: Connection refused\n', /Connection refused$/, /sshd runs on build\.example/],
    ['nothing said at all', 255, '', /: ssh exited with code 255$/, /^$/],
  ];
  for (const [what, code, stderr, message, hint] of cases) {
    it(what, () => {
      const err = sshFailure(target, code, null, stderr);
      assert.equal(err.kind, 'engine-unreachable');
      assert.ok(err.message.startsWith('cannot reach the Docker engine at ssh://deploy@build.example:2200: '), err.message);
      assert.match(err.message, message);
      assert.ok(!err.message.includes('\n'));
      assert.match(err.hint ?? '', hint);
    });
  }
});
