// Errors are values with a stable kind: callers branch on `kind`, users read `message`.
// The message says what happened, where, and what to do; Docker's own text is kept verbatim
// where it is the clearest thing to show (docs/engine-api.md §3.1).

export type ErrorKind =
  | 'usage' // bad command line
  | 'config' // bad DAG file or step config (has a place)
  | 'engine-unreachable' // socket missing, refused, permission denied, TLS trouble
  | 'engine' // the daemon answered with an error we have no better kind for
  | 'not-found'
  | 'conflict'
  | 'bad-request'
  | 'auth' // registry refused the credentials, or a credential helper failed
  | 'protocol' // the daemon or a recording sent bytes we cannot make sense of
  | 'timeout'
  | 'aborted'
  | 'replay'; // a replayed run asked for something the recording does not hold

export interface Place {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

export interface SkiffErrorOptions {
  cause?: unknown;
  status?: number; // HTTP status from the daemon, when there was one
  place?: Place;
  hint?: string; // what to do about it, shown on its own line by the CLI
}

export class SkiffError extends Error {
  readonly kind: ErrorKind;
  readonly status: number | undefined;
  readonly place: Place | undefined;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, message: string, options: SkiffErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SkiffError';
    this.kind = kind;
    this.status = options.status;
    this.place = options.place;
    this.hint = options.hint;
  }
}

export function isSkiffError(err: unknown, kind?: ErrorKind): err is SkiffError {
  return err instanceof SkiffError && (kind === undefined || err.kind === kind);
}

/** `file:line:col: message`, the one-line form used for config errors. */
export function formatPlace(place: Place): string {
  return `${place.file}:${place.line}:${place.col}`;
}

/** The reason an AbortSignal carries, as a SkiffError of kind `aborted` or `timeout`. */
export function abortError(signal: AbortSignal, what: string): SkiffError {
  const reason: unknown = signal.reason;
  if (reason instanceof SkiffError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new SkiffError('timeout', `${what}: timed out`, { cause: reason });
  }
  return new SkiffError('aborted', `${what}: cancelled`, { cause: reason });
}
