// The built DAG: what `build.ts` makes from a validated file and what the scheduler and the
// executors read. Immutable once built; nothing here knows the YAML shape or Docker's wire format.
import type { Place } from './errors.js';
import type { Problem } from './problem.js';

/**
 * The Dockerfile rule (DEVELOPERS.md): a string command is shell form, run by `/bin/sh -c`
 * after skiff's own `${VAR}` expansion; a list is exec form, argv as written.
 */
export type Command =
  | { form: 'shell'; script: string }
  | { form: 'exec'; argv: string[] };

/** Ordered `KEY=value` pairs as written; values are expanded when their scope is evaluated. */
export type EnvList = ReadonlyArray<readonly [name: string, value: string]>;

export interface ContinueOn {
  failure: boolean;
  skipped: boolean;
  exitCodes: number[];
  /** Substrings, or regular expressions when prefixed `re:`, searched in the step's stdout log. */
  output: string[];
  markSuccess: boolean;
}

export interface RetryPolicy {
  /** A number, or a string expanded and parsed when the step runs (Dagu allows `${N}`). */
  limit: number | string;
  intervalSec: number | string;
  /** Retry only on these exit codes; empty = any non-zero code. */
  exitCodes: number[];
  /** Multiplier applied to the interval after each attempt; 1 = constant. */
  backoff: number;
  maxIntervalSec?: number;
}

export interface Precondition {
  /** A command run on the host (`/bin/sh -c`), or a string to expand and compare. */
  condition: string;
  /** Dagu 2.x `eval`: the condition's command substitutions run before it is compared. */
  eval?: boolean;
  /** When set, the expanded condition (or the command's trimmed stdout) must equal this; `re:` = regex. */
  expected?: string;
  negate: boolean;
}

/** Raw, unexpanded `executor.config`; its string leaves are expanded when the step starts. */
export type DockerStepConfig = Record<string, unknown>;

export type StepExecutor =
  | { type: 'local' }
  | { type: 'docker'; config: DockerStepConfig | undefined; place: Place }
  /** A service of run-once tasks on the swarm DOCKER_HOST points at; config checked at load. */
  | { type: 'swarm'; config: Record<string, unknown>; place: Place };

export interface Step {
  name: string;
  id?: string;
  description?: string;
  /** Undefined: no command (a new container runs its image's ENTRYPOINT/CMD). */
  command?: Command;
  /** Shell for local steps (`shell:` of the step, else of the DAG); undefined = `/bin/sh`. */
  shell?: string;
  /** Absolute host directory for local steps (`workingDir`/`dir`, else the DAG's). */
  dir: string;
  env: EnvList;
  /** Names of the steps this one waits for (ids already resolved to names, implicit chain edges included). */
  depends: string[];
  continueOn: ContinueOn;
  retryPolicy?: RetryPolicy;
  timeoutSec?: number;
  preconditions: Precondition[];
  /** Variable that receives the trimmed stdout (leading `$` dropped). */
  output?: string;
  /** Signal sent first when the step is stopped (default SIGTERM). */
  signalOnStop?: string;
  executor: StepExecutor;
  place: Place;
}

export type PullPolicy = 'always' | 'missing' | 'never';

/** DAG-level `container:` (docs/dagu-behavior.md §4), parsed and checked at load time. */
export interface DagContainer {
  image: string;
  name?: string;
  pullPolicy: PullPolicy;
  /** Already expanded at load (§2.1). */
  env: string[];
  /** Binds as `src:dst:ro|rw` with sources resolved, and named volumes. */
  binds: string[];
  volumes: Array<{ name: string; target: string; readOnly: boolean }>;
  workingDir?: string;
  user?: string;
  platform?: string;
  /** `"80/tcp"` → host bindings (empty list = exposed only). */
  ports: Record<string, Array<{ hostIp: string; hostPort: string }>>;
  network?: string;
  keepContainer: boolean;
  startup: 'keepalive' | 'entrypoint' | 'command';
  command: string[];
  waitFor: 'running' | 'healthy';
  logPattern?: string;
  restartPolicy?: 'no' | 'always' | 'unless-stopped';
  place: Place;
}

export interface RegistryCredential {
  username?: string;
  password?: string;
  /** Pre-encoded base64 of `user:password`; decoded before use (the daemon ignores it). */
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** `registryAuths` after load-time expansion: host → credential, or one config.json document. */
export type RegistryAuths =
  | { form: 'map'; entries: Record<string, RegistryCredential> }
  | { form: 'json'; document: string };

export interface Params {
  positional: string[];
  named: EnvList;
}

export interface Handlers {
  success?: Step;
  failure?: Step;
  cancel?: Step;
  exit?: Step;
}

/**
 * Which Dagu the file was written for (docs/dagu-dialects.md): it decides how values are
 * resolved when the steps run, the one thing the two dialects do differently after loading.
 */
export type Dialect = 'dagu-1.2x' | 'dagu-2';

export interface Dag {
  name: string;
  dialect: Dialect;
  /** Absolute path of the DAG file. */
  file: string;
  /** Absolute host working directory (default: the file's directory). */
  dir: string;
  type: 'chain' | 'graph';
  /** DAG env and dotenv, evaluated at load (backticks run on the host). */
  env: EnvList;
  params: Params;
  /** Every step in file order. */
  steps: Step[];
  handlerOn: Handlers;
  /** 0 = unlimited. */
  maxActiveSteps: number;
  timeoutSec?: number;
  delaySec: number;
  preconditions: Precondition[];
  container?: DagContainer;
  registryAuths?: RegistryAuths;
  /** Bytes of stdout kept for `output` (default 1 MiB). */
  maxOutputSize: number;
  /** Grace period before a stopped step is killed (Dagu's maxCleanUpTimeSec, default 5). */
  maxCleanUpTimeSec: number;
  /** What the file asks for that skiff ignores without changing what runs: said before a run. */
  warnings: Problem[];
}
