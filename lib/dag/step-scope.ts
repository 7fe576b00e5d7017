// The variables a step sees, and what is evaluated with them before it runs: the step's scope
// (docs/dagu-behavior.md §2.1), its preconditions (§1.8), its retryPolicy's run-time strings (§1.7)
// and its command (§2.2). A Dagu 2.x file resolves them by 2.x's rules (docs/dagu-dialects.md §3):
// namespaced references, run text left to the shell, commands run only in `eval`.
import { Writable } from 'node:stream';
import { SkiffError } from '../common/errors.js';
import { chainLookups, expand, expandAsync, expandLeaves, substitutionFailed, type CommandRunner, type Lookup } from '../common/expand.js';
import type { ExecutorSet, ExpandAhead } from '../executors/contract.js';
import type { Command, Dag, Dialect, Precondition, Step } from '../common/model.js';
import { matchesPattern } from './status.js';
import { evaluateText, matchesAnyLine, resolveRunText, withNamespaces } from './v2/refs.js';

export interface Scope {
  lookup: Lookup;
  env: Record<string, string>;
  dialect: Dialect;
}

/** The run-wide variables, fixed when the run starts. */
export interface RunScope {
  /** DAG_NAME, DAG_RUN_ID, DAG_RUN_LOG_FILE. */
  runVars: Record<string, string>;
  /** Params by name and by position (`1`, `2`…). */
  params: Record<string, string>;
  namedParams: Record<string, string>;
  dagEnv: Record<string, string>;
  processEnv: Record<string, string>;
  dialect: Dialect;
}

/** Where backticks run during a run: on this host, through the executor set, stopped with `signal`. */
export interface CommandHost {
  executors: Pick<ExecutorSet, 'runOnHost'>;
  graceMs: number;
  signal: AbortSignal;
}

// As long as a backtick was given before it ran asynchronously; the step's own timeout does not
// cover what is evaluated before the step starts.
const SUBSTITUTION_TIMEOUT_MS = 60_000;
const SUBSTITUTION_MAX_BYTES = 1024 * 1024;

/** Runs a backtick's command with `/bin/sh -c` in `cwd` and resolves to its stdout. */
export function hostCommands(host: CommandHost, cwd: string, env: Record<string, string>): CommandRunner {
  return async (command) => {
    const stdout = new Collect(SUBSTITUTION_MAX_BYTES);
    const stderr = new Collect(4096);
    const timeout = AbortSignal.timeout(SUBSTITUTION_TIMEOUT_MS);
    const result = await host.executors.runOnHost(['/bin/sh', '-c', command], {
      cwd,
      env,
      signal: AbortSignal.any([host.signal, timeout]),
      graceMs: host.graceMs,
      stdout,
      stderr,
    });
    if (host.signal.aborted) throw host.signal.reason instanceof SkiffError ? host.signal.reason : new SkiffError('aborted', 'cancelled');
    if (timeout.aborted) throw substitutionFailed(command, `no result after ${SUBSTITUTION_TIMEOUT_MS / 1000}s`);
    if (result.exitCode !== 0) throw substitutionFailed(command, stderr.text().trim() || result.error);
    if (stdout.overflowed) throw substitutionFailed(command, `it printed more than ${SUBSTITUTION_MAX_BYTES} bytes`);
    return stdout.text();
  };
}

/** Keeps up to `limit` bytes of what is written (a backtick's value is a value, not a log). */
class Collect extends Writable {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  overflowed = false;

  constructor(limit: number) {
    super();
    this.#limit = limit;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    const room = this.#limit - this.#size;
    if (chunk.length > room) this.overflowed = true;
    const kept = Buffer.from(chunk.subarray(0, Math.max(0, room)));
    this.#chunks.push(kept);
    this.#size += kept.length;
    cb();
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}

/** What a finished step leaves for the steps after it: its output and, by id, its logs and exit code. */
export interface Produced {
  step: Step;
  output?: string;
  stdoutFile: string | null;
  stderrFile: string | null;
  exitCode: number | null;
}

export function runScope(dag: Dag, runVars: Record<string, string>, env: NodeJS.ProcessEnv): RunScope {
  const namedParams = Object.fromEntries(dag.params.named);
  return {
    runVars,
    params: { ...Object.fromEntries(dag.params.positional.map((v, i) => [String(i + 1), v])), ...namedParams },
    namedParams,
    dagEnv: Object.fromEntries(dag.env),
    processEnv: definedOnly(env),
    dialect: dag.dialect,
  };
}

/** What the DAG's own preconditions see: no step variables, no outputs. */
export function dagScope(run: RunScope): Scope {
  const lookup = chainLookups(run.runVars, run.params, run.dagEnv, run.processEnv);
  return {
    lookup: run.dialect === 'dagu-2' ? withNamespaces(lookup, run.namedParams) : lookup,
    env: { ...run.processEnv, ...run.dagEnv, ...run.namedParams, ...run.runVars },
    dialect: run.dialect,
  };
}

/**
 * The variables of one step (§2.1), highest first: built-ins > step env > outputs > params >
 * DAG env > process env. Step env entries are evaluated in order (backticks included), each
 * seeing the ones before it.
 */
export async function stepScope(
  run: RunScope,
  step: Step,
  producers: readonly Produced[],
  logs: { stdout: string; stderr: string },
  host: CommandHost,
): Promise<Scope> {
  const outputs: Record<string, string> = {};
  const refs: Record<string, string> = {};
  for (const p of producers) {
    if (p.step.output !== undefined && p.output !== undefined) outputs[p.step.output] = p.output;
    if (p.step.id !== undefined && p.stdoutFile !== null) {
      refs[`${p.step.id}.stdout`] = p.stdoutFile;
      refs[`${p.step.id}.stderr`] = p.stderrFile ?? '';
      if (p.exitCode !== null) refs[`${p.step.id}.exitCode`] = String(p.exitCode);
    }
    if (run.dialect === 'dagu-2' && p.output !== undefined) {
      const id = p.step.id ?? p.step.name;
      refs[`${id}.output`] = p.output;
      refs[`steps.${id}.output`] = p.output;
    }
  }
  const builtins = {
    ...run.runVars,
    DAG_RUN_STEP_NAME: step.name,
    DAG_RUN_STEP_STDOUT_FILE: logs.stdout,
    DAG_RUN_STEP_STDERR_FILE: logs.stderr,
    PWD: step.dir,
  };
  const stepEnv: Record<string, string> = {};
  // chainLookups reads the records when called, so entries added below are seen by later ones.
  const chained = chainLookups(builtins, stepEnv, outputs, refs, run.params, run.dagEnv, run.processEnv);
  const v2 = run.dialect === 'dagu-2';
  const lookup = v2 ? withNamespaces(chained, run.namedParams) : chained;
  const envNow = (): Record<string, string> => ({
    ...run.processEnv,
    ...run.dagEnv,
    ...run.namedParams,
    ...outputs,
    ...stepEnv,
    ...builtins,
  });
  for (const [name, value] of step.env) {
    stepEnv[name] = v2 ? expand(value, lookup) : await expandAsync(value, lookup, hostCommands(host, step.dir, envNow()));
  }
  return { lookup, env: envNow(), dialect: run.dialect };
}

/**
 * A step's values expanded before the step starts, with the scopes already settled (built-ins
 * of the run and the step, params, DAG env, process env); undefined if a value names something
 * only known once the step starts: an output, a step's stdout/stderr/exitCode, one of its own
 * env entries (they may run commands) or its log files. Nothing ahead for a Dagu 2.x file.
 */
export function aheadExpander(run: RunScope, steps: readonly Step[]): ExpandAhead {
  // A Dagu 2.x file's namespaced references (outputs among them) are not modelled here yet: its
  // steps pull and create when they start, as before.
  if (run.dialect === 'dagu-2') return () => undefined;
  const later = new Set<string>(['DAG_RUN_STEP_STDOUT_FILE', 'DAG_RUN_STEP_STDERR_FILE']);
  for (const s of steps) {
    if (s.output !== undefined) later.add(s.output);
    if (s.id !== undefined) for (const ref of ['stdout', 'stderr', 'exitCode']) later.add(`${s.id}.${ref}`);
  }
  return (step, value) => {
    const own = new Set(step.env.map(([name]) => name));
    let unknown = false;
    const settled = chainLookups({ ...run.runVars, DAG_RUN_STEP_NAME: step.name, PWD: step.dir }, run.params, run.dagEnv, run.processEnv);
    const lookup: Lookup = (name) => {
      if (later.has(name) || own.has(name)) {
        unknown = true;
        return undefined;
      }
      return settled(name);
    };
    const expanded = expandLeaves(value, lookup);
    return unknown ? undefined : expanded;
  };
}

/** The step's command as expandCommand will give it, or null if that is not known before it starts. */
export function commandAhead(expandAhead: ExpandAhead, step: Step): Command | undefined | null {
  const command = step.command;
  if (!command) return undefined;
  if (command.form === 'shell') {
    const script = expandAhead(step, command.script);
    return typeof script === 'string' ? { form: 'shell', script } : null;
  }
  // Exec-form arguments have their backticks run on the host when the step starts: not before.
  if (command.argv.some((arg) => arg.includes('`'))) return null;
  const argv = expandAhead(step, command.argv);
  return Array.isArray(argv) ? { form: 'exec', argv: argv as string[] } : null;
}

/**
 * The first precondition that does not hold, or undefined (§1.8); evaluated on the host. A 1.2x
 * file stops at the first unmet one and runs backticks in a compared condition; a Dagu 2.x file
 * evaluates every one, in order, runs commands only in `eval`, and takes `expected` literally,
 * matching any line of the value.
 */
export async function firstUnmet(
  conditions: readonly Precondition[],
  cwd: string,
  scope: Scope,
  signal: AbortSignal,
  host: Omit<CommandHost, 'signal'>,
): Promise<Precondition | undefined> {
  const v2 = scope.dialect === 'dagu-2';
  let unmet: Precondition | undefined;
  for (const cond of conditions) {
    let met: boolean;
    try {
      if (cond.expected !== undefined) {
        met = v2 ? matchesV2(cond, cond.expected, cwd, scope) : await matchesV1(cond.condition, cond.expected, cwd, scope, { ...host, signal });
      }
      else {
        const script = expand(cond.condition, scope.lookup);
        const result = await host.executors.runOnHost(['/bin/sh', '-c', script], {
          cwd,
          env: scope.env,
          signal,
          graceMs: host.graceMs,
        });
        met = result.exitCode === 0;
      }
    } catch {
      met = false;
    }
    if (cond.negate) met = !met;
    if (signal.aborted) return cond;
    if (!met) unmet ??= cond;
    if (unmet && !v2) return unmet;
  }
  return unmet;
}

async function matchesV1(condition: string, expected: string, cwd: string, scope: Scope, host: CommandHost): Promise<boolean> {
  const value = await expandAsync(condition, scope.lookup, hostCommands(host, cwd, scope.env));
  return matchesPattern(value, expand(expected, scope.lookup), 'equal');
}

function matchesV2(cond: Precondition, expected: string, cwd: string, scope: Scope): boolean {
  const value = cond.eval ? evaluateText(cond.condition, scope.lookup, cwd, scope.env) : expand(cond.condition, scope.lookup);
  return matchesAnyLine(value, expected);
}

export interface RetryPlan {
  limit: number;
  intervalSec: number;
  backoff: number;
  maxIntervalSec?: number;
  exitCodes: number[];
}

/** retryPolicy with its run-time strings expanded and parsed (§1.7). */
export async function retryPlanFor(step: Step, scope: Scope, host: CommandHost): Promise<RetryPlan | undefined> {
  const policy = step.retryPolicy;
  if (!policy) return undefined;
  const evaluate = async (value: number | string, key: string): Promise<number> => {
    if (typeof value === 'number') return value;
    const text = (scope.dialect === 'dagu-2' ? expand(value, scope.lookup) : await expandAsync(value, scope.lookup, hostCommands(host, step.dir, scope.env))).trim();
    const n = Number(text);
    if (text === '' || !Number.isFinite(n) || n < 0) {
      throw new SkiffError('config', `step "${step.name}": retryPolicy.${key} must be a non-negative number, got "${text}" (from "${value}")`, {
        place: step.place,
      });
    }
    return n;
  };
  return {
    limit: Math.floor(await evaluate(policy.limit, 'limit')),
    intervalSec: await evaluate(policy.intervalSec, 'intervalSec'),
    backoff: policy.backoff,
    ...(policy.maxIntervalSec !== undefined ? { maxIntervalSec: policy.maxIntervalSec } : {}),
    exitCodes: policy.exitCodes,
  };
}

/**
 * §2.2: shell-form scripts get `${VAR}` expansion only (the shell runs their backticks);
 * exec-form arguments reach no shell, so their backticks are run here. In a Dagu 2.x file a host
 * script keeps `$VAR` for its shell, and no backtick is run here at all.
 */
export async function expandCommand(command: Command | undefined, scope: Scope, cwd: string, onHost: boolean, host: CommandHost): Promise<Command | undefined> {
  if (!command) return undefined;
  const v2 = scope.dialect === 'dagu-2';
  if (command.form === 'shell') return { form: 'shell', script: v2 && onHost ? resolveRunText(command.script, scope.lookup) : expand(command.script, scope.lookup) };
  const argv: string[] = [];
  for (const arg of command.argv) argv.push(v2 ? expand(arg, scope.lookup) : await expandAsync(arg, scope.lookup, hostCommands(host, cwd, scope.env)));
  return { form: 'exec', argv };
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
