// The CLI's pure parts: --params splitting, signal trapping, error rendering, exit codes.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { UsageError } from 'clipanion';
import { splitParams } from '../../lib/dag/params-text.js';
import { EXIT_CANCELLED, EXIT_FAILED, EXIT_INTERNAL, EXIT_USAGE, exitCodeForError } from '../../cli/exit-codes.js';
import { debugEnabled, describeError, displayPath } from '../../cli/render/errors.js';
import { createSignalHub, exitCodeForSignal, trapInterrupts } from '../../cli/signals.js';
import { DagLoadError } from '../../lib/common/problem.js';
import { SkiffError } from '../../lib/common/errors.js';

describe('splitParams (Dagu\'s rule, for params: and --params alike)', () => {
  it('splits on whitespace, unquotes double quotes, keeps NAME=value and backticks', () => {
    const tokens = (text: string): string[] => {
      const split = splitParams(text);
      assert.ok('tokens' in split, text);
      return split.tokens;
    };
    assert.deepEqual(tokens('a b k=v'), ['a', 'b', 'k=v']);
    assert.deepEqual(tokens('  one\t"two words"  K="x y" E= '), ['one', 'two words', 'K=x y', 'E=']);
    assert.deepEqual(tokens('"q\\"uote" T=`date +%s` `echo a b`'), ['q"uote', 'T=`date +%s`', '`echo a b`']);
    // Single quotes and backslashes are ordinary characters; a quote starts a new parameter.
    assert.deepEqual(tokens("'it s' a\\ b"), ["'it", "s'", 'a\\', 'b']);
    assert.deepEqual(tokens('a"b c"'), ['a', 'b c']);
    assert.deepEqual(tokens('""'), ['']);
    assert.deepEqual(tokens(''), []);
    assert.deepEqual(splitParams('a "b'), { error: 'unterminated double quote in "a \\"b"' });
    assert.ok('error' in splitParams('x `date'));
  });
});

describe('trapInterrupts', () => {
  it('cancels on the first signal, forces on the second, ignores the rest, and lets go', () => {
    const source = new EventEmitter();
    const hub = createSignalHub(source as never);
    const seen: string[] = [];
    const traps = trapInterrupts({ hub, onCancel: (s) => seen.push(`cancel ${s}`), onForce: (s) => seen.push(`force ${s}`) });
    assert.equal(source.listenerCount('SIGINT'), 1);
    assert.equal(source.listenerCount('SIGTERM'), 1);
    assert.equal(source.listenerCount('SIGHUP'), 1);
    assert.equal(traps.cancelled, false);

    source.emit('SIGTERM', 'SIGTERM');
    assert.equal(traps.signal.aborted, true);
    assert.equal(traps.forceSignal.aborted, false);
    assert.ok(traps.signal.reason instanceof SkiffError);
    assert.equal((traps.signal.reason as SkiffError).kind, 'aborted');
    assert.equal((traps.signal.reason as SkiffError).message, 'cancelled by user (SIGTERM)');
    assert.equal(traps.cancelled, true);
    assert.equal(traps.cancelledBy, 'SIGTERM');

    source.emit('SIGINT', 'SIGINT');
    assert.equal(traps.forceSignal.aborted, true);
    source.emit('SIGINT', 'SIGINT');
    assert.deepEqual(seen, ['cancel SIGTERM', 'force SIGINT']);

    traps.dispose();
    traps.dispose();
    // The process-wide listeners stay for good: a late signal is recorded, never the default death.
    assert.equal(source.listenerCount('SIGINT'), 1);
    source.emit('SIGHUP', 'SIGHUP');
    assert.deepEqual(hub.received, ['SIGTERM', 'SIGINT', 'SIGINT', 'SIGHUP']);
    assert.deepEqual(seen, ['cancel SIGTERM', 'force SIGINT']);
  });

  it('hands a signal that arrived before the trap to it at once', () => {
    const source = new EventEmitter();
    const hub = createSignalHub(source as never);
    source.emit('SIGHUP', 'SIGHUP');
    const traps = trapInterrupts({ hub });
    assert.equal(traps.signal.aborted, true);
    assert.equal(traps.cancelledBy, 'SIGHUP');
    assert.equal(hub.claimed, true);
  });

  it('exit codes are 128 + the signal number', () => {
    assert.deepEqual(['SIGHUP', 'SIGINT', 'SIGTERM'].map((s) => exitCodeForSignal(s as NodeJS.Signals)), [129, 130, 143]);
  });
});

describe('error rendering', () => {
  it('shows a SkiffError as message and hint; the cause chain and stack only with debug', () => {
    const err = new SkiffError('engine-unreachable', 'cannot connect to the Docker engine at /var/run/docker.sock', {
      hint: 'is the daemon running? set DOCKER_HOST to use another engine',
      cause: Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }),
    });
    assert.deepEqual(describeError(err, false), [
      'skiff: cannot connect to the Docker engine at /var/run/docker.sock',
      '  hint: is the daemon running? set DOCKER_HOST to use another engine',
    ]);
    const debug = describeError(err, true);
    assert.equal(debug[2], '  caused by: connect ENOENT /var/run/docker.sock (ENOENT)');
    assert.ok(debug.some((l) => /^\s+at /.test(l)));
  });

  it('shows anything else as an internal error, with its stack only with debug', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    const plain = describeError(bug, false);
    assert.equal(plain[0], "skiff: internal error: Cannot read properties of undefined (reading 'x')");
    assert.match(plain.join('\n'), /please report/);
    assert.ok(!plain.some((l) => /^\s+at /.test(l)));
    assert.ok(describeError(bug, true).some((l) => /^\s+at /.test(l)));
  });

  it('turns on debug with --debug or SKIFF_DEBUG', () => {
    assert.equal(debugEnabled(true, {}), true);
    assert.equal(debugEnabled(false, {}), false);
    assert.equal(debugEnabled(false, { SKIFF_DEBUG: '1' }), true);
    assert.equal(debugEnabled(false, { SKIFF_DEBUG: '0' }), false);
    assert.equal(debugEnabled(false, { SKIFF_DEBUG: '' }), false);
  });

  it('shows paths below the working directory relative to it', () => {
    assert.equal(displayPath('/work/x/dag.yaml', '/work'), 'x/dag.yaml');
    assert.equal(displayPath('/elsewhere/dag.yaml', '/work'), '/elsewhere/dag.yaml');
    assert.equal(displayPath('dag.yaml', '/work'), 'dag.yaml');
  });
});

describe('exit codes', () => {
  it('maps errors to 2 (input), 1 (run), 130 (cancel), 70 (bug)', () => {
    const place = { file: '/d.yaml', line: 1, col: 1 };
    assert.equal(exitCodeForError(new DagLoadError([{ path: '', message: 'x', place }])), EXIT_USAGE);
    assert.equal(exitCodeForError(new SkiffError('usage', 'x')), EXIT_USAGE);
    assert.equal(exitCodeForError(new UsageError('x')), EXIT_USAGE);
    assert.equal(exitCodeForError(new SkiffError('engine-unreachable', 'x')), EXIT_FAILED);
    assert.equal(exitCodeForError(new SkiffError('aborted', 'x')), EXIT_CANCELLED);
    assert.equal(exitCodeForError(new Error('x')), EXIT_INTERNAL);
  });
});
