import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContinueOn } from '../../lib/common/model.js';
import type { RunReport, RunStatus, StepStatus } from '../../lib/dag/report.js';
import {
  continueAllowedWithoutOutput,
  exitCodeFor,
  matchesPattern,
  phaseFor,
  readinessFor,
  retryDelayMs,
  retryExitCode,
  runStatusFor,
  settleFailure,
  shouldRetry,
  type FinishedStep,
  type Readiness,
} from '../../lib/dag/status.js';

const dep = (status: StepStatus, extra: Partial<FinishedStep> = {}): FinishedStep => ({
  status,
  error: null,
  allowed: false,
  continueOnSkipped: false,
  ...extra,
});

const continueOn = (extra: Partial<ContinueOn> = {}): ContinueOn => ({
  failure: false,
  skipped: false,
  exitCodes: [],
  output: [],
  markSuccess: false,
  ...extra,
});

describe('status: readinessFor (§1.5)', () => {
  const table: Array<[string, FinishedStep[], Readiness]> = [
    ['no dependencies', [], { kind: 'run' }],
    ['succeeded', [dep('succeeded')], { kind: 'run' }],
    ['failed, not allowed', [dep('failed')], { kind: 'aborted', error: 'upstream failed' }],
    ['failed, allowed by continueOn', [dep('failed', { allowed: true })], { kind: 'run' }],
    ['skipped', [dep('skipped')], { kind: 'skipped', error: 'upstream skipped' }],
    ['skipped with continueOn.skipped', [dep('skipped', { continueOnSkipped: true })], { kind: 'run' }],
    ['aborted by upstream failure propagates the error', [dep('aborted', { error: 'upstream failed' })], { kind: 'aborted', error: 'upstream failed' }],
    ['aborted without an error (cancel)', [dep('aborted')], { kind: 'aborted', error: null }],
    ['cancelled', [dep('cancelled', { error: 'cancelled' })], { kind: 'aborted', error: null }],
    ['failure wins over skip', [dep('skipped'), dep('failed')], { kind: 'aborted', error: 'upstream failed' }],
    ['abort wins over skip', [dep('skipped'), dep('aborted')], { kind: 'aborted', error: null }],
    ['all satisfied', [dep('succeeded'), dep('failed', { allowed: true }), dep('skipped', { continueOnSkipped: true })], { kind: 'run' }],
  ];
  for (const [name, deps, expected] of table) {
    it(name, () => assert.deepEqual(readinessFor(deps), expected));
  }
});

describe('status: matchesPattern', () => {
  const table: Array<[string, string, 'substring' | 'equal', boolean]> = [
    ['disk almost full', 'almost', 'substring', true],
    ['disk almost full', 'nearly', 'substring', false],
    ['code=E42', 're:^code=E[0-9]+$', 'substring', true],
    ['code=EX', 're:^code=E[0-9]+$', 'substring', false],
    ['dev', 'dev', 'equal', true],
    ['develop', 'dev', 'equal', false],
    ['develop', 're:^dev', 'equal', true],
    ['anything', 're:(unclosed', 'substring', false],
  ];
  for (const [text, pattern, mode, expected] of table) {
    it(`${JSON.stringify(text)} ${mode} ${JSON.stringify(pattern)} → ${expected}`, () => assert.equal(matchesPattern(text, pattern, mode), expected));
  }
});

describe('status: continueOn (§1.6)', () => {
  it('allows failure:true for any code, listed exit codes only otherwise', () => {
    assert.equal(continueAllowedWithoutOutput(continueOn({ failure: true }), 9), true);
    assert.equal(continueAllowedWithoutOutput(continueOn({ exitCodes: [3, 4] }), 4), true);
    assert.equal(continueAllowedWithoutOutput(continueOn({ exitCodes: [3, 4] }), 5), false);
    assert.equal(continueAllowedWithoutOutput(continueOn({ exitCodes: [3] }), null), false);
    assert.equal(continueAllowedWithoutOutput(continueOn(), 1), false);
  });

  it('markSuccess turns only an allowed failure into a success without error', () => {
    assert.deepEqual(settleFailure(continueOn({ markSuccess: true }), true), { status: 'succeeded', allowed: false, clearError: true });
    assert.deepEqual(settleFailure(continueOn({ markSuccess: true }), false), { status: 'failed', allowed: false, clearError: false });
    assert.deepEqual(settleFailure(continueOn(), true), { status: 'failed', allowed: true, clearError: false });
  });
});

describe('status: runStatusFor (§1.10)', () => {
  const s = (status: StepStatus, allowed = false) => ({ status, allowed });
  const table: Array<[string, Parameters<typeof runStatusFor>[0], RunStatus]> = [
    ['all succeeded', { steps: [s('succeeded'), s('succeeded')], stopped: false, handlerFailed: false }, 'succeeded'],
    ['succeeded and skipped', { steps: [s('succeeded'), s('skipped')], stopped: false, handlerFailed: false }, 'succeeded'],
    ['allowed failure + a success', { steps: [s('failed', true), s('succeeded')], stopped: false, handlerFailed: false }, 'partially_succeeded'],
    ['one step, allowed failure only', { steps: [s('failed', true)], stopped: false, handlerFailed: false }, 'failed'],
    ['allowed failure + skipped only', { steps: [s('failed', true), s('skipped')], stopped: false, handlerFailed: false }, 'failed'],
    ['a failure not allowed', { steps: [s('failed'), s('aborted')], stopped: false, handlerFailed: false }, 'failed'],
    ['one allowed, one not', { steps: [s('failed', true), s('failed'), s('succeeded')], stopped: false, handlerFailed: false }, 'failed'],
    ['cancelled mid-run', { steps: [s('succeeded'), s('cancelled'), s('aborted')], stopped: true, handlerFailed: false }, 'aborted'],
    ['stopped after everything succeeded', { steps: [s('succeeded')], stopped: true, handlerFailed: false }, 'succeeded'],
    ['stopped, a failure recorded', { steps: [s('failed')], stopped: true, handlerFailed: false }, 'aborted'],
    ['handler failed after success', { steps: [s('succeeded')], stopped: false, handlerFailed: true }, 'failed'],
    ['handler failed after partial success', { steps: [s('failed', true), s('succeeded')], stopped: false, handlerFailed: true }, 'failed'],
  ];
  for (const [name, facts, expected] of table) {
    it(`${name} → ${expected}`, () => assert.equal(runStatusFor(facts), expected));
  }
});

describe('status: phase and exit code', () => {
  it('phaseFor: null on success and for stops without a failure, step otherwise', () => {
    assert.equal(phaseFor('succeeded', false), null);
    assert.equal(phaseFor('failed', true), 'step');
    assert.equal(phaseFor('partially_succeeded', true), 'step');
    assert.equal(phaseFor('aborted', false), null);
    assert.equal(phaseFor('aborted', true), 'step');
  });

  const report = (status: RunStatus, stepStatuses: StepStatus[] = []): RunReport => ({
    handlers: [],
    status,
    phase: null,
    error: null,
    steps: stepStatuses.map((st, i) => ({ name: `s${i}`, status: st, exitCode: null, error: null, stdoutFile: null, stderrFile: null, outputs: {} })),
  });
  const table: Array<[string, RunReport, boolean, number]> = [
    ['clean success', report('succeeded', ['succeeded']), false, 0],
    ['success with markSuccess (no failed step)', report('succeeded', ['succeeded', 'succeeded']), false, 0],
    ['partial success', report('partially_succeeded', ['failed', 'succeeded']), false, 1],
    ['failure', report('failed', ['failed']), false, 1],
    ['startup failure', report('failed', ['not_started']), false, 1],
    ['aborted by a DAG timeout or precondition', report('aborted', ['aborted']), false, 1],
    ['cancelled', report('aborted', ['cancelled']), true, 130],
    ['cancelled after success', report('succeeded', ['succeeded']), true, 130],
  ];
  for (const [name, r, cancelled, code] of table) {
    it(`exitCodeFor: ${name} → ${code}`, () => assert.equal(exitCodeFor(r, cancelled), code));
  }
});

describe('status: retries (§1.7)', () => {
  it('reads the exit code from `exit status N`, else 1', () => {
    assert.equal(retryExitCode('exit status 3'), 3);
    assert.equal(retryExitCode('exec failed with exit code: 3'), 1);
    assert.equal(retryExitCode('No such image'), 1);
  });

  it('retries while attempts remain and the code is listed (or no list)', () => {
    assert.equal(shouldRetry({ limit: 2, exitCodes: [] }, 1, 'exit status 9'), true);
    assert.equal(shouldRetry({ limit: 2, exitCodes: [] }, 2, 'exit status 9'), true);
    assert.equal(shouldRetry({ limit: 2, exitCodes: [] }, 3, 'exit status 9'), false);
    assert.equal(shouldRetry({ limit: 2, exitCodes: [9] }, 1, 'exit status 9'), true);
    assert.equal(shouldRetry({ limit: 2, exitCodes: [9] }, 1, 'exit status 8'), false);
    assert.equal(shouldRetry({ limit: 2, exitCodes: [1] }, 1, 'exec failed with exit code: 7'), true);
    assert.equal(shouldRetry({ limit: 0, exitCodes: [] }, 1, 'exit status 1'), false);
  });

  it('multiplies the interval by the backoff and caps it at maxIntervalSec', () => {
    const p = { intervalSec: 1, backoff: 2, maxIntervalSec: 5 };
    assert.deepEqual([1, 2, 3, 4, 5].map((a) => retryDelayMs(p, a)), [1000, 2000, 4000, 5000, 5000]);
    assert.deepEqual([1, 2, 3].map((a) => retryDelayMs({ intervalSec: 0.5, backoff: 1 }, a)), [500, 500, 500]);
  });
});
