import assert from 'node:assert/strict';
import fs, { existsSync, readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleepMs } from 'node:timers/promises';
import type { RunEvent } from '../../lib/dag/events.js';
import type { ContinueOn, Dag, Precondition, Step } from '../../lib/common/model.js';
import { LogFile, StepOutput } from '../../lib/dag/outputs.js';
import type { RunReport, StepReport } from '../../lib/dag/report.js';
import { newRunId, runDirFor, stateDir, stepLogPaths } from '../../lib/dag/run-dir.js';
import { exitCodeFor, runDag, type RunDagOptions } from '../../lib/dag/scheduler.js';
import { SkiffError } from '../../lib/common/errors.js';
import { createLocalExecutorSet } from '../support/local-set.js';
import { runProcess } from '../../lib/executors/local.js';
import { testDag } from '../support/dags.js';
import { isAlive, waitForFile } from '../support/processes.js';
import type { Executor, ExecutorSet } from '../../lib/executors/contract.js';

let root: string;
let work: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'skiff-sched-'));
  work = join(root, 'work');
  await import('node:fs/promises').then((fs) => fs.mkdir(work));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

// ---- building DAGs by hand (the loader is someone else's) ----

const place = { file: 'test.yaml', line: 1, col: 1 };
const noContinue: ContinueOn = { failure: false, skipped: false, exitCodes: [], output: [], markSuccess: false };

function step(name: string, script: string, extra: Partial<Step> = {}): Step {
  return {
    name,
    command: { form: 'shell', script },
    dir: work,
    env: [],
    depends: [],
    continueOn: noContinue,
    preconditions: [],
    executor: { type: 'local' },
    place,
    ...extra,
  };
}

let dagCounter = 0;
function dag(steps: Step[], extra: Partial<Dag> = {}): Dag {
  return testDag(work, { name: `dag${++dagCounter}`, type: 'graph', steps, ...extra });
}

/** A chain DAG: build.ts adds the implicit edges, so the tests do too. */
function chain(steps: Step[], extra: Partial<Dag> = {}): Dag {
  return dag(
    steps.map((s, i) => (i === 0 || s.depends.length > 0 ? s : { ...s, depends: [steps[i - 1]!.name] })),
    { type: 'chain', ...extra },
  );
}

interface Ran {
  report: RunReport;
  events: RunEvent[];
  closed: number;
  byName(name: string): StepReport;
  stdout(name: string): string;
}

async function run(
  d: Dag,
  opts: Partial<Pick<RunDagOptions, 'signal' | 'forceSignal' | 'follow' | 'env' | 'onEvent'>> & { executors?: ExecutorSet } = {},
): Promise<Ran> {
  const events: RunEvent[] = [];
  let closed = 0;
  const base = opts.executors ?? createLocalExecutorSet();
  const executors: ExecutorSet = {
    ...(base.setup ? { setup: base.setup.bind(base) } : {}),
    executorFor: (s) => base.executorFor(s),
    runOnHost: (argv, o) => base.runOnHost(argv, o),
    close: async () => {
      closed++;
      await base.close();
    },
  };
  const runId = newRunId();
  const report = await runDag({
    dag: d,
    executors,
    runId,
    logDir: runDirFor(d.name, runId, { SKIFF_STATE_DIR: join(root, 'state') }),
    signal: opts.signal ?? new AbortController().signal,
    ...(opts.forceSignal ? { forceSignal: opts.forceSignal } : {}),
    ...(opts.follow ? { follow: true } : {}),
    env: opts.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    onEvent: (ev) => {
      events.push(ev);
      opts.onEvent?.(ev);
    },
  });
  const byName = (name: string): StepReport => {
    const s = report.steps.find((x) => x.name === name);
    assert.ok(s, `no step ${name} in the report`);
    return s;
  };
  return {
    report,
    events,
    closed,
    byName,
    stdout: (name) => {
      const file = byName(name).stdoutFile;
      assert.ok(file, `step ${name} has no stdout file`);
      return readFileSync(file, 'utf8');
    },
  };
}

const statuses = (r: RunReport): Record<string, string> => Object.fromEntries(r.steps.map((s) => [s.name, s.status]));
const f = (name: string): string => join(work, name);

/** A step that only exits when `other` has started too: it proves two steps overlap. */
const meetScript = (me: string, other: string): string =>
  `touch ${f(me)}; i=0; while [ ! -f ${f(other)} ]; do i=$((i+1)); [ $i -gt 1000 ] && exit 9; sleep 0.01; done`;

// ---- ordering ----

describe('scheduler: ordering', () => {
  it('runs a chain in order, one step after the other', async () => {
    const out = f('chain.txt');
    const r = await run(chain([step('a', `echo a >> ${out}`), step('b', `echo b >> ${out}`), step('c', `echo c >> ${out}`)]));
    assert.equal(readFileSync(out, 'utf8'), 'a\nb\nc\n');
    const order = r.events.filter((e) => e.type === 'step-start' || e.type === 'step-end').map((e) => `${e.type}:${'step' in e ? e.step : ''}`);
    assert.deepEqual(order, ['step-start:a', 'step-end:a', 'step-start:b', 'step-end:b', 'step-start:c', 'step-end:c']);
    assert.equal(r.report.status, 'succeeded');
    assert.equal(r.report.phase, null);
    assert.equal(r.report.error, null);
    assert.equal(exitCodeFor(r.report, false), 0);
  });

  it('runs graph steps without depends together, and a join after both', async () => {
    const out = f('join.txt');
    const r = await run(
      dag([
        step('left', meetScript('left.started', 'right.started')),
        step('right', meetScript('right.started', 'left.started')),
        step('join', `echo joined > ${out}`, { depends: ['left', 'right'] }),
      ]),
    );
    assert.deepEqual(statuses(r.report), { left: 'succeeded', right: 'succeeded', join: 'succeeded' });
    const starts = r.events.filter((e) => e.type === 'step-start').map((e) => (e as { step: string }).step);
    assert.equal(starts[2], 'join');
    assert.equal(readFileSync(out, 'utf8'), 'joined\n');
  });

  it('runs a parallel group (chain members depending on the same step) concurrently', async () => {
    const r = await run(
      chain([
        step('first', 'true'),
        step('p1', meetScript('p1.started', 'p2.started'), { depends: ['first'] }),
        step('p2', meetScript('p2.started', 'p1.started'), { depends: ['first'] }),
        step('last', 'true', { depends: ['p1', 'p2'] }),
      ]),
    );
    assert.deepEqual(statuses(r.report), { first: 'succeeded', p1: 'succeeded', p2: 'succeeded', last: 'succeeded' });
  });

  it('maxActiveSteps=1 never lets two steps overlap', async () => {
    const log = f('serial.txt');
    const body = (n: string): string => `echo start-${n} >> ${log}; sleep 0.1; echo end-${n} >> ${log}`;
    const r = await run(dag([step('s1', body('1')), step('s2', body('2')), step('s3', body('3'))], { maxActiveSteps: 1 }));
    assert.equal(r.report.status, 'succeeded');
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines.length, 6);
    for (let i = 0; i < lines.length; i += 2) {
      assert.match(lines[i]!, /^start-(\d)$/);
      assert.equal(lines[i + 1], lines[i]!.replace('start', 'end'), `overlap: ${lines.join(',')}`);
    }
  });
});

// ---- failures, continueOn, statuses ----

describe('scheduler: failures and continueOn', () => {
  it('aborts every step downstream of a failure with `upstream failed`; they never run', async () => {
    const r = await run(
      dag([
        step('a', 'echo boom >&2; exit 3'),
        step('b', 'true', { depends: ['a'] }),
        step('c', 'true', { depends: ['b'] }),
        step('free', 'true'),
      ]),
    );
    assert.deepEqual(statuses(r.report), { a: 'failed', b: 'aborted', c: 'aborted', free: 'succeeded' });
    assert.deepEqual(
      [r.byName('a').exitCode, r.byName('a').error],
      [3, 'exit status 3\nrecent stderr (tail):\nboom'],
    );
    for (const n of ['b', 'c']) {
      assert.equal(r.byName(n).error, 'upstream failed');
      assert.equal(r.byName(n).stdoutFile, null);
      assert.equal(r.byName(n).exitCode, null);
    }
    assert.equal(r.report.status, 'failed');
    assert.equal(r.report.phase, 'step');
    assert.equal(r.report.error, 'step "a": exit status 3\nrecent stderr (tail):\nboom');
    assert.equal(exitCodeFor(r.report, false), 1);
    assert.equal(readFileSync(r.byName('a').stderrFile!, 'utf8'), 'boom\n');
  });

  it('continueOn.failure lets dependents run; the run is partially_succeeded and exits 1', async () => {
    const r = await run(chain([step('a', 'exit 1', { continueOn: { ...noContinue, failure: true } }), step('b', 'true')]));
    assert.deepEqual(statuses(r.report), { a: 'failed', b: 'succeeded' });
    assert.equal(r.byName('a').error, 'exit status 1');
    assert.equal(r.report.status, 'partially_succeeded');
    assert.equal(r.report.phase, 'step');
    assert.equal(r.report.error, 'step "a": exit status 1');
    assert.equal(exitCodeFor(r.report, false), 1);
  });

  it('continueOn.exitCode allows only the listed codes', async () => {
    const allowed = await run(chain([step('a', 'exit 3', { continueOn: { ...noContinue, exitCodes: [3] } }), step('b', 'true')]));
    assert.deepEqual(statuses(allowed.report), { a: 'failed', b: 'succeeded' });
    assert.equal(allowed.report.status, 'partially_succeeded');

    const other = await run(chain([step('a', 'exit 4', { continueOn: { ...noContinue, exitCodes: [3] } }), step('b', 'true')]));
    assert.deepEqual(statuses(other.report), { a: 'failed', b: 'aborted' });
    assert.equal(other.report.status, 'failed');
  });

  it('a one-step DAG failing with an allowed exit code is failed, not partially succeeded', async () => {
    const r = await run(dag([step('only', 'exit 3', { continueOn: { ...noContinue, exitCodes: [3] } })]));
    assert.equal(r.report.status, 'failed');
    assert.equal(exitCodeFor(r.report, false), 1);
  });

  it('continueOn.output matches a substring of the stdout log, or a regex with re:', async () => {
    const sub = await run(
      chain([step('a', 'echo "warning: disk almost full"; exit 1', { continueOn: { ...noContinue, output: ['almost full'] } }), step('b', 'true')]),
    );
    assert.deepEqual(statuses(sub.report), { a: 'failed', b: 'succeeded' });

    const re = await run(
      chain([step('a', 'echo "code=E42"; exit 1', { continueOn: { ...noContinue, output: ['re:^code=E[0-9]+$'] } }), step('b', 'true')]),
    );
    assert.deepEqual(statuses(re.report), { a: 'failed', b: 'succeeded' });

    const stderrOnly = await run(
      chain([step('a', 'echo "almost full" >&2; exit 1', { continueOn: { ...noContinue, output: ['almost full'] } }), step('b', 'true')]),
    );
    assert.deepEqual(statuses(stderrOnly.report), { a: 'failed', b: 'aborted' });
  });

  it('markSuccess turns an allowed failure into a success with no error; the run exits 0', async () => {
    const r = await run(
      chain([step('a', 'exit 3', { continueOn: { ...noContinue, exitCodes: [3], markSuccess: true } }), step('b', 'true')]),
    );
    assert.deepEqual(statuses(r.report), { a: 'succeeded', b: 'succeeded' });
    assert.equal(r.byName('a').error, null);
    assert.equal(r.byName('a').exitCode, 3);
    assert.equal(r.report.status, 'succeeded');
    assert.equal(exitCodeFor(r.report, false), 0);
  });

  it('a skipped step skips its dependents (`upstream skipped`) unless continueOn.skipped', async () => {
    const never: Precondition[] = [{ condition: 'false', negate: false }];
    const r = await run(chain([step('a', 'true', { preconditions: never }), step('b', 'true')]));
    assert.deepEqual(statuses(r.report), { a: 'skipped', b: 'skipped' });
    assert.equal(r.byName('a').error, 'precondition not met: false');
    assert.equal(r.byName('b').error, 'upstream skipped');
    assert.equal(r.report.status, 'succeeded');

    const cont = await run(chain([step('a', 'true', { preconditions: never, continueOn: { ...noContinue, skipped: true } }), step('b', 'true')]));
    assert.deepEqual(statuses(cont.report), { a: 'skipped', b: 'succeeded' });
  });

  it('an executor that throws a SkiffError fails the step with exit code 1 and its message', async () => {
    const executors: ExecutorSet = {
      executorFor: (s): Executor => ({
        run: async () => {
          if (s.name === 'skiff') throw new SkiffError('engine', 'No such image: nope:latest');
          throw new TypeError('x is not a function');
        },
      }),
      runOnHost: runProcess,
      close: async () => {},
    };
    const r = await run(dag([step('skiff', 'true'), step('other', 'true')]), { executors });
    assert.deepEqual([r.byName('skiff').status, r.byName('skiff').exitCode, r.byName('skiff').error], ['failed', 1, 'No such image: nope:latest']);
    assert.deepEqual([r.byName('other').status, r.byName('other').exitCode, r.byName('other').error], ['failed', 1, 'internal error: x is not a function']);
  });

  it('a step whose executor type is not available fails with the config error', async () => {
    const r = await run(dag([step('d', 'true', { executor: { type: 'docker', config: {}, place } })]));
    assert.equal(r.byName('d').status, 'failed');
    assert.match(r.byName('d').error ?? '', /executor type "docker"/);
  });
});

// ---- outputs and variables ----

describe('scheduler: outputs and variables', () => {
  it('captures stdout only, trimmed, and shows it to dependents', async () => {
    const r = await run(
      chain([
        step('a', 'printf "  \\n hello\\n world \\n\\n"; echo noise >&2', { output: 'GREETING' }),
        step('b', 'echo "[${GREETING}]"'),
      ]),
    );
    assert.deepEqual(r.byName('a').outputs, { GREETING: 'hello\n world' });
    assert.equal(r.stdout('b'), '[hello\n world]\n');
    assert.deepEqual(r.byName('b').outputs, {});
  });

  it('does not show an output to a graph branch that does not depend on its producer', async () => {
    const r = await run(
      dag(
        [
          step('producer', 'echo secret', { output: 'SECRET' }),
          step('dependent', 'echo "dep=${SECRET}"', { depends: ['producer'] }),
          // Runs after producer (maxActiveSteps 1, file order) but does not depend on it.
          step('unrelated', 'echo "unrelated=${SECRET:-none}"'),
        ],
        { maxActiveSteps: 1 },
      ),
    );
    const starts = r.events.filter((e) => e.type === 'step-start').map((e) => (e as { step: string }).step);
    assert.ok(starts.indexOf('unrelated') > starts.indexOf('producer'));
    assert.equal(r.stdout('dependent'), 'dep=secret\n');
    assert.equal(r.stdout('unrelated'), 'unrelated=none\n');
  });

  it('caps a captured output at maxOutputSize and marks it truncated; the log keeps everything', async () => {
    const r = await run(dag([step('big', 'printf "0123456789abcdefghij"', { output: 'BIG' })], { maxOutputSize: 10 }));
    assert.deepEqual(r.byName('big').outputs, { BIG: '0123456789\n[OUTPUT TRUNCATED]' });
    assert.equal(r.stdout('big'), '0123456789abcdefghij');
  });

  it('resolves a name by precedence: step env > outputs > params > DAG env > process env', async () => {
    // $(printenv X) reads the process environment (ctx.env); ${X} is expanded by skiff first.
    const show = 'for v in P D N O S; do printf "%s=%s " $v "$(printenv $v)"; done; echo; echo "X=${P} ${D} ${N} ${O} ${S}"';
    const r = await run(
      chain(
        [
          step('producer', 'printf "from-output"', { output: 'O' }),
          step('producer2', 'printf "from-output"', { output: 'S' }),
          step('show', show, { env: [['S', 'from-step']] }),
        ],
        {
          env: [
            ['D', 'from-dag'],
            ['N', 'from-dag'],
            ['O', 'from-dag'],
            ['S', 'from-dag'],
          ],
          params: { positional: [], named: [['N', 'from-param'], ['O', 'from-param']] },
        },
      ),
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', P: 'from-process', D: 'from-process', N: 'from-process' } },
    );
    assert.equal(
      r.stdout('show'),
      'P=from-process D=from-dag N=from-param O=from-output S=from-step \nX=from-process from-dag from-param from-output from-step\n',
    );
  });

  it('evaluates step env in order (later entries see earlier ones, backticks run) and keeps built-ins on top', async () => {
    const r = await run(
      dag(
        [
          step('s', 'echo "$B|$C|$DAG_RUN_STEP_NAME|$PWD|$DAG_NAME|$1"', {
            env: [
              ['A', 'one'],
              ['B', '${A}-two'],
              ['C', '`echo sub`'],
              ['DAG_RUN_STEP_NAME', 'overridden'],
            ],
          }),
        ],
        { name: 'vars-dag', params: { positional: ['first'], named: [] } },
      ),
    );
    assert.equal(r.stdout('s'), `one-two|sub|s|${work}|vars-dag|first\n`);
  });

  it('exposes ${id.stdout}, ${id.stderr} and ${id.exitCode} of steps it depends on', async () => {
    const r = await run(
      chain([
        step('first', 'echo logged; exit 2', { id: 'first', continueOn: { ...noContinue, failure: true } }),
        step('second', 'echo "code=${first.exitCode}"; cat ${first.stdout}'),
      ]),
    );
    assert.equal(r.stdout('second'), 'code=2\nlogged\n');
  });

  it('writes each stream to its own log file, with absolute paths in the report', async () => {
    const r = await run(dag([step('logs', 'echo to-out; echo to-err >&2')]));
    const s = r.byName('logs');
    assert.ok(s.stdoutFile && isAbsolute(s.stdoutFile));
    assert.ok(s.stderrFile && isAbsolute(s.stderrFile));
    assert.equal(readFileSync(s.stdoutFile, 'utf8'), 'to-out\n');
    assert.equal(readFileSync(s.stderrFile, 'utf8'), 'to-err\n');
  });

  it('emits step-output events with follow, and none without', async () => {
    const followed = await run(dag([step('talk', 'echo hi; echo there >&2')]), { follow: true });
    const chunks = followed.events.filter((e) => e.type === 'step-output') as Array<Extract<RunEvent, { type: 'step-output' }>>;
    assert.equal(
      chunks.filter((c) => c.stream === 'stdout').map((c) => c.chunk.toString()).join(''),
      'hi\n',
    );
    assert.equal(
      chunks.filter((c) => c.stream === 'stderr').map((c) => c.chunk.toString()).join(''),
      'there\n',
    );
    const quiet = await run(dag([step('talk', 'echo hi')]));
    assert.equal(quiet.events.filter((e) => e.type === 'step-output').length, 0);
  });

  it('forwards executor events', async () => {
    const executors: ExecutorSet = {
      executorFor: (): Executor => ({
        run: async (ctx) => {
          ctx.emit({ type: 'info', step: ctx.step.name, message: 'pulled' });
          return { exitCode: 0 };
        },
      }),
      runOnHost: runProcess,
      close: async () => {},
    };
    const r = await run(dag([step('e', 'true')]), { executors });
    assert.deepEqual(
      r.events.filter((e) => e.type === 'executor'),
      [{ type: 'executor', event: { type: 'info', step: 'e', message: 'pulled' } }],
    );
  });
});

// ---- retries and timeouts ----

describe('scheduler: retries and timeouts', () => {
  it('retries on listed exit codes with backoff, appending attempts to one log and joining outputs', async () => {
    const counter = f('retry-count');
    const script = `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; echo "try $n"; [ $n -ge 3 ] || exit 2`;
    const r = await run(
      dag([step('flaky', script, { output: 'TRIES', retryPolicy: { limit: '${LIMIT}', intervalSec: 0.01, exitCodes: [2], backoff: 2 } })], {
        params: { positional: [], named: [['LIMIT', '5']] },
      }),
    );
    assert.equal(r.byName('flaky').status, 'succeeded');
    const retries = r.events.filter((e) => e.type === 'step-retry') as Array<Extract<RunEvent, { type: 'step-retry' }>>;
    assert.deepEqual(
      retries.map((e) => [e.attempt, e.delayMs, e.error]),
      [
        [2, 10, 'exit status 2'],
        [3, 20, 'exit status 2'],
      ],
    );
    assert.deepEqual(
      r.events.filter((e) => e.type === 'step-start').map((e) => (e as { attempt: number }).attempt),
      [1, 2, 3],
    );
    assert.equal(r.stdout('flaky'), 'try 1\ntry 2\ntry 3\n');
    assert.deepEqual(r.byName('flaky').outputs, { TRIES: 'try 1\ntry 2\ntry 3' });
  });

  it('does not retry an exit code that is not listed, and stops at the limit', async () => {
    const unlisted = await run(dag([step('s', 'exit 5', { retryPolicy: { limit: 3, intervalSec: 0, exitCodes: [2], backoff: 1 } })]));
    assert.equal(unlisted.events.filter((e) => e.type === 'step-retry').length, 0);
    assert.equal(unlisted.byName('s').exitCode, 5);

    const limited = await run(dag([step('s', 'exit 2', { retryPolicy: { limit: 2, intervalSec: 0, exitCodes: [], backoff: 1 } })]));
    assert.equal(limited.events.filter((e) => e.type === 'step-start').length, 3);
    assert.equal(limited.byName('s').status, 'failed');
  });

  it('times a step out with exit code 124, kills its process group and does not retry it', async () => {
    const pidFile = f('timeout.pid');
    const r = await run(
      dag([
        step('slow', `sleep 30 & echo $! > ${pidFile}; wait`, {
          timeoutSec: 0.5,
          retryPolicy: { limit: 3, intervalSec: 0, exitCodes: [], backoff: 1 },
        }),
      ]),
    );
    const s = r.byName('slow');
    assert.equal(s.status, 'failed');
    assert.equal(s.exitCode, 124);
    assert.match(s.error ?? '', /^step timed out after [0-9.]+s \(timeout: 0\.5s\)$/);
    assert.equal(r.events.filter((e) => e.type === 'step-retry').length, 0);
    assert.equal(isAlive(Number(readFileSync(pidFile, 'utf8'))), false);
    assert.equal(r.report.status, 'failed');
  });

  it('a DAG timeout aborts running and waiting steps and the run', async () => {
    const r = await run(chain([step('slow', 'sleep 30'), step('next', 'true')], { timeoutSec: 0.5 }));
    assert.deepEqual(statuses(r.report), { slow: 'aborted', next: 'aborted' });
    assert.equal(r.byName('slow').error, 'DAG timed out after 0.5s');
    assert.equal(r.byName('next').error, null);
    assert.equal(r.report.status, 'aborted');
    assert.equal(r.report.error, 'DAG timed out after 0.5s');
    assert.equal(exitCodeFor(r.report, false), 1);
  });
});

// ---- cancel ----

describe('scheduler: cancel', () => {
  it('cancel stops running steps, aborts the rest, runs cancel then exit handlers, and leaves no process', async () => {
    const pidFile = f('cancel.pid');
    const handlerLog = f('cancel-handlers.txt');
    const ctrl = new AbortController();
    const running = run(
      chain([step('long', `sleep 30 & echo $! > ${pidFile}; wait`), step('after', 'true')], {
        handlerOn: {
          success: step('onSuccess', `echo success >> ${handlerLog}`),
          failure: step('onFailure', `echo failure >> ${handlerLog}`),
          cancel: step('onCancel', `echo cancel >> ${handlerLog}`),
          exit: step('onExit', `echo exit >> ${handlerLog}`),
        },
      }),
      {
        signal: ctrl.signal,
        onEvent: (ev) => {
          if (ev.type === 'step-start' && ev.step === 'long') void waitForFile(pidFile).then(() => ctrl.abort(new SkiffError('aborted', 'cancelled')));
        },
      },
    );
    const r = await running;
    const child = Number(readFileSync(pidFile, 'utf8'));
    assert.equal(isAlive(child), false);
    assert.deepEqual(statuses(r.report), { long: 'cancelled', after: 'aborted' });
    assert.equal(r.byName('long').error, 'cancelled');
    assert.equal(r.byName('long').exitCode, 143);
    assert.equal(r.byName('after').error, null);
    assert.equal(r.report.status, 'aborted');
    assert.equal(readFileSync(handlerLog, 'utf8'), 'cancel\nexit\n');
    assert.equal(exitCodeFor(r.report, true), 130);
    assert.ok(r.events.some((e) => e.type === 'cancel-requested' && !e.force));
    assert.equal(r.report.steps.length, 2);
    assert.equal(r.closed, 1);
  });

  it('force kills a step that ignores the stop signal at once and runs no handler', async () => {
    const pidFile = f('force.pid');
    const handlerLog = f('force-handlers.txt');
    const ctrl = new AbortController();
    const force = new AbortController();
    const r = await run(
      dag([step('stubborn', `trap '' TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done`)], {
        maxCleanUpTimeSec: 3600,
        handlerOn: { exit: step('onExit', `echo exit >> ${handlerLog}`) },
      }),
      {
        signal: ctrl.signal,
        forceSignal: force.signal,
        onEvent: (ev) => {
          if (ev.type === 'step-start') {
            void waitForFile(pidFile).then(() => {
              ctrl.abort(new SkiffError('aborted', 'cancelled'));
              setTimeout(() => force.abort(new SkiffError('aborted', 'forced')), 50);
            });
          }
        },
      },
    );
    assert.equal(isAlive(Number(readFileSync(pidFile, 'utf8'))), false);
    assert.equal(r.byName('stubborn').status, 'cancelled');
    assert.equal(r.byName('stubborn').exitCode, 137);
    assert.equal(existsSync(handlerLog), false);
    assert.deepEqual(
      r.events.filter((e) => e.type === 'cancel-requested'),
      [
        { type: 'cancel-requested', force: false },
        { type: 'cancel-requested', force: true },
      ],
    );
  });

  it('a cancel during a retry interval ends the wait', async () => {
    const ctrl = new AbortController();
    const r = await run(dag([step('s', 'exit 1', { retryPolicy: { limit: 5, intervalSec: 3600, exitCodes: [], backoff: 1 } })]), {
      signal: ctrl.signal,
      onEvent: (ev) => {
        if (ev.type === 'step-retry') ctrl.abort(new SkiffError('aborted', 'cancelled'));
      },
    });
    assert.equal(r.byName('s').status, 'cancelled');
    assert.equal(r.byName('s').exitCode, 1);
    assert.equal(r.report.status, 'aborted');
  });
});

// ---- preconditions, handlers, set-up ----

describe('scheduler: preconditions, handlers and set-up', () => {
  it('skips a step whose precondition fails (command, expected value, regex, negate)', async () => {
    const r = await run(
      dag([
        step('cmd-fails', 'true', { preconditions: [{ condition: 'test "$MODE" = prod', negate: false }] }),
        step('cmd-passes', 'true', { preconditions: [{ condition: 'test "$MODE" = dev', negate: false }] }),
        step('expected-ok', 'true', { preconditions: [{ condition: '`echo $MODE`', expected: 'dev', negate: false }] }),
        step('expected-bad', 'true', { preconditions: [{ condition: '${MODE}', expected: 'prod', negate: false }] }),
        step('regex', 'true', { preconditions: [{ condition: '${MODE}', expected: 're:^d.v$', negate: false }] }),
        step('negated', 'true', { preconditions: [{ condition: 'true', negate: true }] }),
      ], { env: [['MODE', 'dev']] }),
    );
    assert.deepEqual(statuses(r.report), {
      'cmd-fails': 'skipped',
      'cmd-passes': 'succeeded',
      'expected-ok': 'succeeded',
      'expected-bad': 'skipped',
      regex: 'succeeded',
      negated: 'skipped',
    });
    assert.deepEqual(
      ['cmd-fails', 'expected-bad', 'negated'].map((n) => r.byName(n).error),
      ['precondition not met: test "$MODE" = prod', 'precondition not met: ${MODE} (expected "prod")', 'precondition not met: not true'],
    );
    assert.equal(r.byName('cmd-fails').stdoutFile, null);
    assert.equal(r.report.status, 'succeeded');
  });

  it('command preconditions run through the executor set (runOnHost), with the step dir, env and the cleanup grace', async () => {
    const base = createLocalExecutorSet();
    const calls: Array<{ argv: readonly string[]; cwd: string; mode: string | undefined; graceMs: number }> = [];
    const executors: ExecutorSet = {
      executorFor: (s) => base.executorFor(s),
      runOnHost: async (argv, o) => {
        calls.push({ argv, cwd: o.cwd, mode: o.env.MODE, graceMs: o.graceMs });
        return { exitCode: argv[2] === 'says-yes' ? 0 : 1 };
      },
      close: async () => {},
    };
    const d = dag([
      step('yes', 'true', { preconditions: [{ condition: 'says-yes', negate: false }] }),
      step('no', 'true', { preconditions: [{ condition: 'says-${MODE}', negate: false }] }),
    ], { env: [['MODE', 'no']] });
    const r = await run(d, { executors });
    assert.deepEqual(statuses(r.report), { yes: 'succeeded', no: 'skipped' });
    assert.deepEqual(
      calls.map((c) => c.argv).sort(),
      [['/bin/sh', '-c', 'says-no'], ['/bin/sh', '-c', 'says-yes']],
    );
    for (const c of calls) assert.deepEqual([c.cwd, c.mode, c.graceMs], [d.steps[0]!.dir, 'no', d.maxCleanUpTimeSec * 1000]);
  });

  it('a failing DAG precondition runs nothing: steps not_started, run aborted, set-up skipped, close called', async () => {
    const marker = f('dag-precondition-ran');
    let setups = 0;
    const base = createLocalExecutorSet();
    const executors: ExecutorSet = {
      setup: async () => {
        setups++;
      },
      executorFor: (s) => base.executorFor(s),
      runOnHost: runProcess,
      close: async () => {},
    };
    const r = await run(dag([step('a', `touch ${marker}`)], { preconditions: [{ condition: 'false', negate: false }] }), { executors });
    assert.deepEqual(statuses(r.report), { a: 'not_started' });
    assert.equal(r.report.status, 'aborted');
    assert.equal(r.report.phase, null);
    assert.equal(r.report.error, 'precondition not met: false');
    assert.equal(existsSync(marker), false);
    assert.equal(setups, 0);
    assert.equal(r.closed, 1);
    assert.equal(exitCodeFor(r.report, false), 1);
  });

  it('runs success and exit handlers after a success, failure and exit after a failure; not listed in steps', async () => {
    const okLog = f('ok-handlers.txt');
    const handlers = (log: string) => ({
      success: step('onSuccess', `echo success >> ${log}`),
      failure: step('onFailure', `echo failure >> ${log}`),
      cancel: step('onCancel', `echo cancel >> ${log}`),
      exit: step('onExit', `echo exit >> ${log}`),
    });
    const ok = await run(dag([step('a', 'true')], { handlerOn: handlers(okLog) }));
    assert.equal(readFileSync(okLog, 'utf8'), 'success\nexit\n');
    assert.deepEqual(ok.report.steps.map((s) => s.name), ['a']);
    assert.ok(ok.events.some((e) => e.type === 'step-end' && e.handler && e.step === 'onExit'));

    const partialLog = f('partial-handlers.txt');
    await run(chain([step('a', 'exit 1', { continueOn: { ...noContinue, failure: true } }), step('b', 'true')], { handlerOn: handlers(partialLog) }));
    assert.equal(readFileSync(partialLog, 'utf8'), 'success\nexit\n');

    const badLog = f('bad-handlers.txt');
    await run(dag([step('a', 'exit 1')], { handlerOn: handlers(badLog) }));
    assert.equal(readFileSync(badLog, 'utf8'), 'failure\nexit\n');
  });

  it('a failing handler makes the run failed', async () => {
    const r = await run(dag([step('a', 'true')], { handlerOn: { exit: step('onExit', 'exit 7') } }));
    assert.equal(r.byName('a').status, 'succeeded');
    assert.equal(r.report.status, 'failed');
    assert.equal(r.report.phase, 'step');
    assert.equal(r.report.error, 'handler onExit failed: exit status 7');
    assert.equal(exitCodeFor(r.report, false), 1);
  });

  it('a set-up failure fails the run in phase startup with every step not_started, and close is still called', async () => {
    const marker = f('setup-ran');
    const base = createLocalExecutorSet();
    const executors: ExecutorSet = {
      setup: async () => {
        throw new SkiffError('engine', 'failed to start container: boom');
      },
      executorFor: (s) => base.executorFor(s),
      runOnHost: runProcess,
      close: async () => {},
    };
    const r = await run(chain([step('a', `touch ${marker}`), step('b', 'true')]), { executors });
    assert.deepEqual(r.report, {
      status: 'failed',
      phase: 'startup',
      error: 'failed to start container: boom',
      steps: ['a', 'b'].map((name) => ({ name, status: 'not_started', exitCode: null, error: null, stdoutFile: null, stderrFile: null, outputs: {} })),
      handlers: [],
    });
    assert.equal(existsSync(marker), false);
    assert.equal(r.closed, 1);
    const end = r.events.find((e) => e.type === 'startup-end');
    assert.deepEqual(end, { type: 'startup-end', error: 'failed to start container: boom' });
  });

  it('calls close exactly once on a successful run and emits run-start first and run-end last', async () => {
    const r = await run(dag([step('a', 'true')]));
    assert.equal(r.closed, 1);
    assert.equal(r.events[0]?.type, 'run-start');
    assert.deepEqual(r.events.at(-1), { type: 'run-end', report: r.report });
  });
});

// ---- collaborators: run directories and output capture ----

describe('run-dir', () => {
  it('makes sortable, unique run ids', () => {
    const id = newRunId(new Date('2026-11-23T08:55:01.123Z'));
    assert.match(id, /^20261123T085501Z-[0-9a-f]{8}$/);
    const many = new Set(Array.from({ length: 200 }, () => newRunId()));
    assert.equal(many.size, 200);
    assert.ok(newRunId(new Date('2026-01-01T00:00:00Z')) < newRunId(new Date('2026-01-01T00:00:01Z')));
  });

  it('finds the state directory: SKIFF_STATE_DIR, then XDG_STATE_HOME/skiff, then ~/.local/state/skiff', () => {
    assert.equal(stateDir({ SKIFF_STATE_DIR: '/s', XDG_STATE_HOME: '/x', HOME: '/h' }), '/s');
    assert.equal(stateDir({ XDG_STATE_HOME: '/x', HOME: '/h' }), '/x/skiff');
    assert.equal(stateDir({ XDG_STATE_HOME: 'relative', HOME: '/h' }), '/h/.local/state/skiff');
    assert.equal(stateDir({ HOME: '/h' }), '/h/.local/state/skiff');
    assert.equal(runDirFor('my dag', 'R1', { SKIFF_STATE_DIR: '/s' }), '/s/runs/my_dag/R1');
  });

  it('makes safe log file names', () => {
    assert.deepEqual(stepLogPaths('/r', 'build/push: x'), { stdout: '/r/build_push__x.stdout.log', stderr: '/r/build_push__x.stderr.log' });
    assert.deepEqual(stepLogPaths('/r', 'a', 2), { stdout: '/r/a.2.stdout.log', stderr: '/r/a.2.stderr.log' });
    assert.equal(stepLogPaths('/r', '..').stdout, '/r/__.stdout.log');
  });

  it('gives steps whose names differ only in unsafe characters distinct log files', async () => {
    const r = await run(dag([step('a b', 'echo one'), step('a/b', 'echo two')]));
    assert.notEqual(r.byName('a b').stdoutFile, r.byName('a/b').stdoutFile);
    assert.equal(r.stdout('a b'), 'one\n');
    assert.equal(r.stdout('a/b'), 'two\n');
  });
});

describe('outputs', () => {
  it('StepOutput keeps at most the cap, marks truncation, trims, and writes everything to the log', async () => {
    const path = f('tee.log');
    const log = new LogFile(path);
    const tee = new StepOutput({ file: log, captureBytes: 8 });
    tee.write('  abc');
    tee.write('defghijk  ');
    await new Promise<void>((resolve) => tee.end(resolve));
    await log.close();
    assert.equal(tee.captured(), 'abcdef\n[OUTPUT TRUNCATED]');
    assert.equal(readFileSync(path, 'utf8'), '  abcdefghijk  ');

    const plainLog = new LogFile(f('tee2.log'));
    const plain = new StepOutput({ file: plainLog });
    assert.equal(plain.captured(), undefined);
    await plainLog.close();
  });

  it('LogFile copies: one buffer refilled after each write is called back still gives the exact file', async () => {
    const path = f('reused.log');
    const log = new LogFile(path);
    const reused = Buffer.alloc(100_000);
    const expected: Buffer[] = [];
    // 6 MB through one buffer: more than both staging buffers, so some writes wait for the file.
    for (let i = 0; i < 60; i++) {
      reused.fill(i % 251);
      reused.writeUInt32BE(i, (i * 977) % 99_000);
      expected.push(Buffer.from(reused));
      await new Promise<void>((resolve) => log.write(reused, resolve));
    }
    await log.close();
    assert.ok(readFileSync(path).equals(Buffer.concat(expected)));
  });

  it('LogFile keeps the order of writes made while earlier ones wait for a staging buffer', async () => {
    const path = f('order.log');
    const log = new LogFile(path);
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(50_000 + i, 65 + (i % 26)));
    await Promise.all(chunks.map((chunk) => new Promise<void>((resolve) => log.write(chunk, resolve))));
    await log.close();
    assert.ok(readFileSync(path).equals(Buffer.concat(chunks)));
  });

  it('LogFile gathers output that trickles in, a chunk per event-loop turn, into a few file writes', async () => {
    const path = f('trickle.log');
    const write = mock.method(fs, 'write');
    syncBuiltinESMExports();
    try {
      const log = new LogFile(path);
      const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(4096, 48 + (i % 10)));
      for (const chunk of chunks) {
        await new Promise<void>((resolve) => log.write(chunk, resolve));
        await nextTurn();
      }
      await log.close();
      assert.ok(readFileSync(path).equals(Buffer.concat(chunks)));
      // Each write is a trip through the thread pool; one per chunk made `skiff run` of 1 GiB slow.
      assert.ok(write.mock.callCount() <= 16, `${write.mock.callCount()} writes for 64 chunks`);
    } finally {
      write.mock.restore();
      syncBuiltinESMExports();
    }
  });

  it('LogFile writes a lone chunk within moments, without waiting for more output or close()', async () => {
    const path = f('current.log');
    const log = new LogFile(path);
    await new Promise<void>((resolve) => log.write(Buffer.from('first line\n'), resolve));
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && (!existsSync(path) || readFileSync(path, 'utf8') === '')) await sleepMs(5);
    assert.equal(readFileSync(path, 'utf8'), 'first line\n');
    await log.close();
  });

  it('LogFile on a full disk remembers ENOSPC, calls every write back and drops the rest', async () => {
    const log = new LogFile('/dev/full');
    let calledBack = 0;
    await Promise.all(Array.from({ length: 8 }, () => new Promise<void>((resolve) => log.write(Buffer.alloc(200_000, 1), () => (calledBack++, resolve())))));
    await log.close();
    assert.equal(calledBack, 8);
    assert.match(log.error?.message ?? '', /ENOSPC/);
  });

  it('LogFile that cannot be opened remembers why and still calls every write back', async () => {
    const log = new LogFile(f('no-such-dir/x.log'));
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => log.write(Buffer.alloc(400_000), resolve));
    await log.close();
    assert.match(log.error?.message ?? '', /ENOENT/);
  });
});
