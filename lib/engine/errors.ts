// The daemon's error answers as SkiffErrors. The error values themselves live in common/errors.ts,
// shared by every layer; they are re-exported here for the engine's own modules and its users.
import { SkiffError, type ErrorKind } from '../common/errors.js';

export { SkiffError, isSkiffError, abortError, formatPlace } from '../common/errors.js';
export type { ErrorKind, Place, SkiffErrorOptions } from '../common/errors.js';

// Registry refusals arrive as 500 on 20.10 and 401/404 on newer daemons; the text is the stable part.
const AUTH_TEXT = /no basic auth credentials|unauthorized|authentication required|denied|incorrect username or password/i;

/** The error for a non-2xx answer, keeping the daemon's text the way the docker CLI shows it. */
export function daemonError(status: number, daemonMessage: string, what: string): SkiffError {
  const text = daemonMessage.trim() || `HTTP ${status}`;
  const message = `${what}: Error response from daemon: ${text}`;
  const kind: ErrorKind =
    status === 401 || AUTH_TEXT.test(text)
      ? 'auth'
      : status === 404
        ? 'not-found'
        : status === 409
          ? 'conflict'
          : status === 400
            ? 'bad-request'
            : 'engine';
  return new SkiffError(kind, message, { status });
}
