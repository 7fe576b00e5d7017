import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Dag, Step } from '../../lib/common/model.js';
import { SkiffError } from '../../lib/common/errors.js';
import { createLocalExecutorSet } from '../support/local-set.js';
import { testDag } from '../support/dags.js';
import { isAlive, waitForFile } from '../support/processes.js';
import { localExecutor, runProcess, shellArgv, signalName } from '../../lib/executors/local.js';
import { StopRequest, forceSignalOf } from '../../lib/executors/contract.js';
import type { StepContext, StepResult } from '../../lib/executors/contract.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skiff-local-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const place = { file: 'test.yaml', line: 1, col: 1 };

function step(extra: Partial<Step> = {}): Step {
  return {
    name: 's',
    dir,
    env: [],
    depends: [],
    continueOn: { failure: false, skipped: false, exitCodes: [], output: [], markSuccess: false },
    preconditions: [],
    executor: { type: 'local' },
    place,
    ...extra,
  };
}

function dag(extra: Partial<Dag> = {}): Dag {
  return testDag(dir, { name: 'd', file: join(dir, 'd.yaml'), ...extra });
}

/** A Writable that keeps everything (tests only: outputs here are small). */
function sink(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return Object.assign(w, { text: () => Buffer.concat(chunks).toString('utf8') });
}

interface Run {
  result?: StepResult;
  error?: unknown;
  stdout: string;
  stderr: string;
}

async function runStep(s: Step, opts: { dag?: Dag; signal?: AbortSignal; env?: Record<string, string> } = {}): Promise<Run> {
  const stdout = sink();
  const stderr = sink();
  const ctx: StepContext = {
    dag: opts.dag ?? dag(),
    step: s,
    runId: 'r1',
    ...(s.command ? { command: s.command } : {}),
    lookup: () => undefined,
    env: opts.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdout,
    stderr,
    signal: opts.signal ?? new AbortController().signal,
    emit: () => {},
  };
  try {
    const result = await localExecutor.run(ctx);
    return { result, stdout: stdout.text(), stderr: stderr.text() };
  } catch (error) {
    return { error, stdout: stdout.text(), stderr: stderr.text() };
  }
}

const sh = (script: string): Partial<Step> => ({ command: { form: 'shell', script } });

describe('local executor: running', () => {
  it('runs a shell-form script with /bin/sh -c and streams stdout and stderr apart', async () => {
    const r = await runStep(step(sh('echo out; echo err >&2; echo "$0"')));
    assert.deepEqual(r.result, { exitCode: 0 });
    assert.equal(r.stdout, 'out\n/bin/sh\n');
    assert.equal(r.stderr, 'err\n');
  });

  it('runs exec form as argv, without a shell (spaces and $ kept as written)', async () => {
    const r = await runStep(step({ command: { form: 'exec', argv: ['printf', '[%s]', 'a  b', '$HOME'] } }));
    assert.deepEqual(r.result, { exitCode: 0 });
    assert.equal(r.stdout, '[a  b][$HOME]');
  });

  it('splits a shell with options on whitespace and appends -c (bash -e stops at the first failure)', async () => {
    const r = await runStep(step({ ...sh('false; echo after'), shell: 'bash -e' }));
    assert.deepEqual(r.result, { exitCode: 1, error: 'exit status 1' });
    assert.equal(r.stdout, '');
    assert.deepEqual(shellArgv('bash -e'), ['bash', '-e', '-c']);
    assert.deepEqual(shellArgv(undefined), ['/bin/sh', '-c']);
    assert.deepEqual(shellArgv('  zsh  '), ['zsh', '-c']);
    assert.deepEqual(shellArgv('sh -c'), ['sh', '-c']);
  });

  it('runs in step.dir with exactly ctx.env', async () => {
    process.env.SKIFF_LOCAL_TEST_LEAK = 'leaked';
    try {
      const r = await runStep(step(sh('pwd; echo "${ONLY:-unset} ${SKIFF_LOCAL_TEST_LEAK:-absent}"')), {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ONLY: 'given' },
      });
      assert.equal(r.stdout, `${dir}\ngiven absent\n`);
    } finally {
      delete process.env.SKIFF_LOCAL_TEST_LEAK;
    }
  });

  it('reports a non-zero exit as a result with Go wording: exit status N', async () => {
    const r = await runStep(step(sh('exit 42')));
    assert.deepEqual(r.result, { exitCode: 42, error: 'exit status 42' });
  });

  it('reports death by a signal as 128+signo and `signal: killed`', async () => {
    const r = await runStep(step({ command: { form: 'exec', argv: ['sh', '-c', 'kill -KILL $$'] } }));
    assert.deepEqual(r.result, { exitCode: 137, error: 'signal: killed' });
  });

  it('throws a config SkiffError with Go wording when the executable is missing', async () => {
    const r = await runStep(step({ command: { form: 'exec', argv: ['skiff-no-such-binary', 'x'] } }));
    assert.ok(r.error instanceof SkiffError);
    assert.equal(r.error.kind, 'config');
    assert.equal(r.error.message, 'exec: "skiff-no-such-binary": executable file not found in $PATH');

    const abs = await runStep(step({ command: { form: 'exec', argv: ['/no/such/file'] } }));
    assert.ok(abs.error instanceof SkiffError);
    assert.equal(abs.error.message, 'fork/exec /no/such/file: no such file or directory');
  });

  it('throws a config SkiffError naming the directory when step.dir is missing', async () => {
    const r = await runStep(step({ ...sh('true'), dir: join(dir, 'missing') }));
    assert.ok(r.error instanceof SkiffError);
    assert.equal(r.error.message, `chdir ${join(dir, 'missing')}: no such file or directory`);
  });

  it('throws a config SkiffError for a step without a command', async () => {
    const r = await runStep(step());
    assert.ok(r.error instanceof SkiffError);
    assert.equal(r.error.kind, 'config');
  });

  it('honours backpressure: a slow stdout gets every byte and is not ended', async () => {
    let bytes = 0;
    let writes = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        writes++;
        setImmediate(cb);
      },
    });
    const result = await runProcess(['sh', '-c', 'head -c 4000000 /dev/zero'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdout: slow,
      signal: new AbortController().signal,
      graceMs: 1000,
    });
    assert.deepEqual(result, { exitCode: 0 });
    assert.equal(bytes, 4_000_000);
    assert.ok(writes > 1);
    assert.equal(slow.writableEnded, false);
  });
});

describe('local executor: stopping', () => {
  it('on abort sends SIGTERM to the whole process group and waits for it', async () => {
    const pidFile = join(dir, 'group.pid');
    const ctrl = new AbortController();
    const running = runStep(step(sh(`sleep 30 & echo $! > ${pidFile}; wait`)), { signal: ctrl.signal });
    const child = Number(await waitForFile(pidFile));
    assert.ok(isAlive(child));
    ctrl.abort(new SkiffError('aborted', 'cancelled'));
    const r = await running;
    assert.deepEqual(r.result, { exitCode: 143, error: 'signal: terminated' });
    assert.equal(isAlive(child), false);
  });

  it('uses signalOnStop as the first signal', async () => {
    const ctrl = new AbortController();
    const pidFile = join(dir, 'int.pid');
    const running = runStep(step({ command: { form: 'exec', argv: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`] }, signalOnStop: 'INT' }), {
      signal: ctrl.signal,
    });
    await waitForFile(pidFile);
    ctrl.abort(new SkiffError('aborted', 'cancelled'));
    const r = await running;
    assert.deepEqual(r.result, { exitCode: 130, error: 'signal: interrupt' });
  });

  it('escalates to SIGKILL after maxCleanUpTimeSec when the stop signal is ignored', async () => {
    const ctrl = new AbortController();
    const pidFile = join(dir, 'trap.pid');
    const running = runStep(step(sh(`trap '' TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done`)), {
      signal: ctrl.signal,
      dag: dag({ maxCleanUpTimeSec: 0.2 }),
    });
    const pid = Number(await waitForFile(pidFile));
    ctrl.abort(new SkiffError('aborted', 'cancelled'));
    const r = await running;
    assert.deepEqual(r.result, { exitCode: 137, error: 'signal: killed' });
    assert.equal(isAlive(pid), false);
  });

  it('kills at once when the stop request is forced, whatever the grace period', async () => {
    const ctrl = new AbortController();
    const force = new AbortController();
    const pidFile = join(dir, 'force.pid');
    const running = runStep(step(sh(`trap '' TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done`)), {
      signal: ctrl.signal,
      dag: dag({ maxCleanUpTimeSec: 3600 }),
    });
    await waitForFile(pidFile);
    ctrl.abort(new StopRequest('cancelled', force.signal));
    // The grace period has started; the second request must not wait for it.
    await new Promise((r) => setTimeout(r, 50));
    force.abort();
    const r = await running;
    assert.deepEqual(r.result, { exitCode: 137, error: 'signal: killed' });
  });

  it('does not start a process when the signal is already aborted', async () => {
    const ctrl = new AbortController();
    const marker = join(dir, 'never-started');
    ctrl.abort(new SkiffError('aborted', 'cancelled'));
    const r = await runStep(step(sh(`touch ${marker}`)), { signal: ctrl.signal });
    assert.ok(r.error instanceof SkiffError);
    assert.equal(r.error.kind, 'aborted');
    await assert.rejects(stat(marker));
  });

  it('forceSignalOf reads the force signal of a StopRequest reason only', () => {
    const force = new AbortController();
    const a = new AbortController();
    a.abort(new StopRequest('cancelled', force.signal));
    assert.equal(forceSignalOf(a.signal), force.signal);
    const b = new AbortController();
    b.abort(new DOMException('t', 'TimeoutError'));
    assert.equal(forceSignalOf(b.signal), undefined);
    assert.equal(forceSignalOf(new AbortController().signal), undefined);
  });

  it('signalName accepts TERM, sigterm and SIGTERM and rejects unknown names', () => {
    assert.equal(signalName('TERM'), 'SIGTERM');
    assert.equal(signalName('sigint'), 'SIGINT');
    assert.equal(signalName('SIGKILL'), 'SIGKILL');
    assert.equal(signalName('NOPE'), undefined);
  });
});

describe('local executor set', () => {
  it('gives the local executor to local steps and a config error to any other type', () => {
    const set = createLocalExecutorSet();
    assert.equal(set.executorFor(step()), localExecutor);
    assert.throws(
      () => set.executorFor(step({ name: 'd1', executor: { type: 'docker', config: {}, place } })),
      (err: unknown) => err instanceof SkiffError && err.kind === 'config' && err.message.includes('"docker"') && err.message.includes('d1'),
    );
    assert.equal(set.setup, undefined);
  });
});
