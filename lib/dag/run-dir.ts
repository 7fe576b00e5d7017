// Where a run keeps its files: one directory per run under the state directory, one pair of
// log files per step. Pure path arithmetic; the scheduler creates what it needs.
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * `20261123T085501Z-1a2b3c4d`: UTC time first so ids sort by start time, then 32 random bits so
 * two runs started in the same second (even of the same DAG) never share a directory.
 */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/** What newRunId makes, anywhere in a text (a replay learns run ids by it). */
export const RUN_ID_PATTERN = /\b\d{8}T\d{6}Z-[0-9a-f]{8}\b/;

/** `$SKIFF_STATE_DIR`, else `$XDG_STATE_HOME/skiff`, else `~/.local/state/skiff`. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SKIFF_STATE_DIR) return env.SKIFF_STATE_DIR;
  // The XDG spec says a relative XDG_STATE_HOME is invalid and must be ignored.
  if (env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME)) return join(env.XDG_STATE_HOME, 'skiff');
  return join(env.HOME || homedir(), '.local', 'state', 'skiff');
}

/** `<stateDir>/runs/<dagName>/<runId>`. */
export function runDirFor(dagName: string, runId: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'runs', safeFileName(dagName), safeFileName(runId));
}

/** `<runDir>/<step>.stdout.log` (or `<step>.<attempt>.stdout.log`) and the stderr twin. */
export function stepLogPaths(runDir: string, stepName: string, attempt?: number): { stdout: string; stderr: string } {
  const base = safeFileName(stepName) + (attempt === undefined ? '' : `.${attempt}`);
  return { stdout: join(runDir, `${base}.stdout.log`), stderr: join(runDir, `${base}.stderr.log`) };
}

/**
 * Step and DAG names may hold spaces, slashes or anything else: keep letters and digits of any
 * script (`données`, `ビルド` stay readable), `_`, `.` and `-`; anything else becomes `_`.
 */
export function safeFileName(name: string): string {
  const safe = name.replace(/[^\p{L}\p{M}\p{N}_.-]/gu, '_');
  // `.` and `..` are path components, not names; a leading dot would hide the file.
  return safe === '' || /^\.+$/.test(safe) ? safe.replace(/\./g, '_') || '_' : safe.replace(/^\./, '_');
}
