// The renderers, fed events directly: plain lines, the live view's frames, --follow's line
// buffering, the summary.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { RunEvent } from '../../lib/dag/events.js';
import type { RunReport, StepReport } from '../../lib/dag/report.js';
import { FollowWriter } from '../../cli/render/follow.js';
import { formatDuration, painter } from '../../cli/render/format.js';
import { LiveRenderer } from '../../cli/render/live.js';
import { PlainRenderer } from '../../cli/render/plain.js';
import { describePull, progressBar } from '../../cli/render/pull-progress.js';
import { createRunRenderer } from '../../cli/render/renderer.js';
import { errorLines, summaryLine } from '../../cli/render/summary.js';

class Capture extends Writable {
  text = '';
  isTTY: boolean;
  columns = 80;
  rows = 24;

  constructor(tty = false) {
    super();
    this.isTTY = tty;
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

function stepReport(name: string, status: StepReport['status'], error: string | null = null): StepReport {
  return { name, status, exitCode: status === 'succeeded' ? 0 : null, error, stdoutFile: null, stderrFile: null, outputs: {} };
}

const noPaint = painter(false);

describe('plain renderer', () => {
  it('writes one timestamped line per event, as the issue spells them', () => {
    let now = Date.parse('2026-11-23T09:00:00.000Z');
    const out = new Capture();
    const err = new Capture();
    const r = new PlainRenderer({ out, err, paint: noPaint, stepNames: ['build', 'test'], follow: false, now: () => new Date(now) });
    const events: RunEvent[] = [
      { type: 'run-start', runId: 'r1', dag: 'd', logDir: '/logs/r1' },
      { type: 'step-start', step: 'build', attempt: 1, handler: false },
      { type: 'executor', event: { type: 'pull-start', step: 'build', image: 'alpine' } },
      { type: 'executor', event: { type: 'pull-done', step: 'build', image: 'alpine', pulled: true } },
      { type: 'executor', event: { type: 'pull-done', step: 'test', image: 'alpine', pulled: false } },
      { type: 'executor', event: { type: 'pull-done', step: 'test', image: 'busybox', pulled: false } },
      { type: 'executor', event: { type: 'warning', step: 'build', message: 'platform mismatch' } },
    ];
    for (const ev of events) r.onEvent(ev);
    now += 1200;
    r.onEvent({ type: 'step-end', step: 'build', status: 'succeeded', exitCode: 0, error: null, handler: false });
    r.onEvent({ type: 'step-start', step: 'test', attempt: 1, handler: false });
    r.onEvent({ type: 'step-end', step: 'test', status: 'failed', exitCode: 1, error: 'exit status 1', handler: false });
    assert.equal(
      out.text,
      [
        '2026-11-23T09:00:00.000Z run r1 of d started',
        '2026-11-23T09:00:00.000Z step build started',
        '2026-11-23T09:00:00.000Z pulled alpine',
        '2026-11-23T09:00:00.000Z busybox is up to date',
        '2026-11-23T09:00:00.000Z warning: step build: platform mismatch',
        '2026-11-23T09:00:01.200Z step build succeeded (exit 0, 1.2s)',
        '2026-11-23T09:00:01.200Z step test started',
        '2026-11-23T09:00:01.200Z step test failed (exit 1): exit status 1',
        '',
      ].join('\n'),
    );
    const report: RunReport = { handlers: [], status: 'failed', phase: 'step', error: 'step "test": exit status 1', steps: [stepReport('build', 'succeeded'), stepReport('test', 'failed', 'exit status 1')] };
    r.finish(report, { elapsedMs: 1500, cancelled: false });
    assert.match(out.text, /\nrun failed \(2 steps: 1 succeeded, 1 failed\) in 1\.5s\nlogs: \/logs\/r1\n$/);
    assert.equal(err.text, 'step test failed: exit status 1\n');
  });
});

describe('live renderer', () => {
  it('redraws the block in place and leaves a final frame with every step', () => {
    let now = 0;
    const out = new Capture(true);
    const err = new Capture(true);
    const r = new LiveRenderer({ out, err, paint: noPaint, stepNames: ['build', 'test'], now: () => now });
    r.onEvent({ type: 'run-start', runId: 'r1', dag: 'd', logDir: '/logs/r1' });
    r.onEvent({ type: 'step-start', step: 'build', attempt: 1, handler: false });
    r.onEvent({ type: 'executor', event: { type: 'pull-progress', step: 'build', image: 'alpine', fraction: 0.5, layersDone: 1, layersKnown: 2, bytesCurrent: 5, bytesTotal: 10 } });
    now = 2500;
    r.onEvent({ type: 'step-end', step: 'build', status: 'succeeded', exitCode: 0, error: null, handler: false });
    r.notice('cancelling… (press Ctrl-C again to force)');
    r.onEvent({ type: 'step-end', step: 'test', status: 'aborted', exitCode: null, error: null, handler: false });
    r.onEvent({ type: 'step-start', step: 'onExit', attempt: 1, handler: true });
    r.finish({ handlers: [], status: 'aborted', phase: null, error: 'cancelled', steps: [stepReport('build', 'succeeded'), stepReport('test', 'aborted')] }, { elapsedMs: 2500, cancelled: true });

    assert.ok(out.text.includes('\x1b[2A\r'), 'moves up over the two step lines');
    assert.match(out.text, /running d \(run r1\)/);
    const frames = out.text.split('\x1b[J');
    const last = frames.at(-2)!;
    const lastLines = last.split('\n').map((l) => l.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '').trimEnd()).filter((l) => l !== '');
    assert.deepEqual(lastLines.map((l) => l.trim().split(/\s+/).slice(0, 3).join(' ')), ['✓ build succeeded', '! test aborted', `${lastLines[2]!.trim()[0]} onExit running`]);
    assert.match(lastLines[0]!, /2\.5s/);
    assert.match(lastLines[2]!, /\(handler\)/);
    assert.match(out.text, /run aborted \(2 steps: 1 succeeded, 1 aborted\) in 2\.5s\nlogs: \/logs\/r1\n$/);
    assert.equal(err.text, 'cancelling… (press Ctrl-C again to force)\n');
    // No colour when the painter is off (NO_COLOR): only cursor and erase sequences.
    assert.doesNotMatch(out.text, /\x1b\[\d+m/);
  });

  it('never writes a line wider than the terminal', () => {
    const out = new Capture(true);
    out.columns = 30;
    const r = new LiveRenderer({ out, err: new Capture(true), paint: painter(true), stepNames: ['a-step-with-a-rather-long-name'], now: () => 0 });
    r.onEvent({ type: 'run-start', runId: 'r', dag: 'd', logDir: '/l' });
    r.onEvent({ type: 'step-end', step: 'a-step-with-a-rather-long-name', status: 'failed', exitCode: 1, error: 'a long error message that goes on', handler: false });
    r.finish({ handlers: [], status: 'failed', phase: 'step', error: 'x', steps: [] }, { elapsedMs: 0, cancelled: false });
    const frame = out.text.split('run failed')[0]!;
    for (const line of frame.split('\n')) {
      const visible = line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
      if (visible.startsWith('running ')) continue;
      assert.ok(Array.from(visible).length <= 29, `${JSON.stringify(visible)} is wider than 29`);
    }
  });

  it('is chosen on a terminal, plain lines elsewhere or with --follow, colours only without NO_COLOR', () => {
    const tty = new Capture(true);
    assert.ok(createRunRenderer({ stdout: tty, stderr: tty, env: {}, stepNames: [], quiet: false, follow: false }) instanceof LiveRenderer);
    assert.ok(createRunRenderer({ stdout: tty, stderr: tty, env: {}, stepNames: [], quiet: false, follow: true }) instanceof PlainRenderer);
    assert.ok(createRunRenderer({ stdout: new Capture(), stderr: tty, env: {}, stepNames: [], quiet: false, follow: false }) instanceof PlainRenderer);

    const coloured = new Capture(true);
    createRunRenderer({ stdout: coloured, stderr: coloured, env: {}, stepNames: ['a'], quiet: false, follow: true }).onEvent({
      type: 'step-end', step: 'a', status: 'succeeded', exitCode: 0, error: null, handler: false,
    });
    assert.match(coloured.text, /\x1b\[32m/);
    const plain = new Capture(true);
    createRunRenderer({ stdout: plain, stderr: plain, env: { NO_COLOR: '1' }, stepNames: ['a'], quiet: false, follow: true }).onEvent({
      type: 'step-end', step: 'a', status: 'succeeded', exitCode: 0, error: null, handler: false,
    });
    assert.doesNotMatch(plain.text, /\x1b/);
  });
});

describe('follow writer', () => {
  it('buffers per step and stream until a line ends', () => {
    const out = new Capture();
    const err = new Capture();
    const w = new FollowWriter(out, err);
    w.write('a', 'stdout', Buffer.from('hel'));
    w.write('b', 'stdout', Buffer.from('other\nhalf'));
    w.write('a', 'stdout', Buffer.from('lo\nwor'));
    w.write('a', 'stderr', Buffer.from('oops\n'));
    // A UTF-8 character split across chunks stays whole.
    const snow = Buffer.from('☃\n');
    w.write('b', 'stderr', snow.subarray(0, 1));
    w.write('b', 'stderr', snow.subarray(1));
    assert.equal(out.text, 'b | other\na | hello\n');
    w.flush('a');
    assert.equal(out.text, 'b | other\na | hello\na | wor\n');
    w.flush();
    assert.equal(out.text, 'b | other\na | hello\na | wor\nb | half\n');
    assert.equal(err.text, 'a | oops\nb | ☃\n');
  });
});

describe('summary and formats', () => {
  it('counts steps by status and names what failed', () => {
    const report: RunReport = {
      handlers: [],
      status: 'failed',
      phase: 'startup',
      error: 'cannot connect to the Docker engine',
      steps: [stepReport('a', 'not_started'), stepReport('b', 'not_started')],
    };
    assert.equal(summaryLine(report, 61_000), 'run failed (2 steps: 2 not started) in 1m01s');
    assert.deepEqual(errorLines(report, false), ['run could not start: cannot connect to the Docker engine']);
    const cancelled: RunReport = { handlers: [], status: 'aborted', phase: null, error: 'cancelled', steps: [stepReport('a', 'cancelled', 'cancelled')] };
    assert.deepEqual(errorLines(cancelled, true), []);
    assert.equal(summaryLine({ handlers: [], status: 'partially_succeeded', phase: null, error: null, steps: [stepReport('a', 'succeeded')] }, 12), 'run partially succeeded (1 step: 1 succeeded) in 12ms');
  });

  it('formats durations and pull bars', () => {
    assert.equal(formatDuration(450), '450ms');
    assert.equal(formatDuration(1234), '1.2s');
    assert.equal(formatDuration(125_000), '2m05s');
    assert.equal(formatDuration(3_720_000), '1h02m');
    assert.equal(progressBar(0, 4), '[>   ]');
    assert.equal(progressBar(0.5, 4), '[==> ]');
    assert.equal(progressBar(1, 4), '[====]');
    assert.equal(describePull({ image: 'alpine', fraction: 0.5, layersDone: 1, layersKnown: 2 }, 4), 'pulling alpine [==> ] 1/2');
  });
});
