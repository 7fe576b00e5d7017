// One connection to a remote engine over ssh, as the docker CLI makes it (docs/engine-api.md
// §12.4): an `ssh` child running `docker system dial-stdio` on the far side (ssh-url.ts), its
// stdin and stdout used as the socket. One process per connection; the connection owns it:
// destroying the connection stops it, and a process exit stops any still running. ssh runs in a
// session of its own (as the CLI starts it), so a Ctrl-C at the terminal reaches skiff, which
// still needs the connection to stop its containers, and not ssh. ssh's own failures (host key,
// login, no docker over there) are its last line of stderr, given back as the connection's error.
import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import { SkiffError } from './errors.js';
import type { SshTarget } from './ssh-url.js';

const STDERR_TAIL = 4096;
/** After SIGTERM, how long ssh gets to close its channel before SIGKILL. */
const KILL_GRACE_MS = 3000;

export class SshConnection extends Duplex {
  /**
   * Settles once ssh has started (the connection may be used) or could not start (no `ssh` on
   * the PATH): the moment a socket would be connected.
   */
  readonly started: Promise<void>;
  readonly #child: ChildProcess;
  #stderr = '';
  /** ssh could not be started: there is no process to wait for. */
  #neverStarted = false;

  constructor(target: SshTarget) {
    super();
    const child = spawn('ssh', target.args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.#child = child;
    track(child);
    let spawned = false;
    let failedToStart: (err: Error) => void = () => undefined;
    this.started = new Promise<void>((resolve, reject) => {
      failedToStart = reject;
      child.once('spawn', () => {
        spawned = true;
        resolve();
      });
    });
    // Nobody may be waiting for it (the caller gets the failure from `started` or as an error).
    this.started.catch(() => undefined);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout!.pause();
    });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL);
    });
    // Writing after ssh died fails with EPIPE; its exit status says why, below.
    child.stdin!.on('error', () => undefined);
    child.on('error', (err) => {
      // After the start, an error is a failed kill: the exit (or the SIGKILL) still comes.
      if (spawned) return;
      // Before `started`, nobody listens for errors on this stream yet: the promise carries it.
      this.#neverStarted = true;
      forget(child);
      failedToStart(spawnFailure(target, err));
      this.destroy();
    });
    child.on('exit', () => forget(child));
    // After the exit and the end of its output: EOF when ssh succeeded, else ssh's reason.
    child.on('close', (code, signal) => {
      if (this.destroyed) return;
      if (code === 0) this.push(null);
      else this.destroy(sshFailure(target, code, signal, this.#stderr));
    });
  }

  get #exited(): boolean {
    return this.#neverStarted || this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  override _read(): void {
    this.#child.stdout!.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Called back once the pipe took it: that is the backpressure. A failed write is reported by
    // the exit status instead.
    this.#child.stdin!.write(chunk, () => callback());
  }

  /** A half-close (stdin EOF of an exec) travels as ssh's EOF; output keeps coming. */
  override _final(callback: (error?: Error | null) => void): void {
    this.#child.stdin!.end();
    callback();
  }

  /** Closed once ssh has exited (and is reaped): closing the pool then leaves no process behind. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#exited) return callback(error);
    this.#child.once('exit', () => callback(error));
    this.#stop();
  }

  // undici unrefs an idle keep-alive connection so that it never holds the process open.
  ref(): this {
    this.#child.ref();
    for (const pipe of [this.#child.stdin, this.#child.stdout, this.#child.stderr]) (pipe as { ref?(): void } | null)?.ref?.();
    return this;
  }

  unref(): this {
    this.#child.unref();
    for (const pipe of [this.#child.stdin, this.#child.stdout, this.#child.stderr]) (pipe as { unref?(): void } | null)?.unref?.();
    return this;
  }

  #stop(): void {
    const child = this.#child;
    // An idle connection was unref'd: its exit must still be waited for (closing waits on it).
    child.ref();
    child.stdin!.destroy();
    child.stdout!.destroy();
    child.stderr!.destroy();
    child.kill('SIGTERM');
    setTimeout(() => {
      if (!this.#exited) child.kill('SIGKILL');
    }, KILL_GRACE_MS).unref();
  }
}

// The processes of every connection still open: stopped if the process exits with them open.
const running = new Set<ChildProcess>();

function track(child: ChildProcess): void {
  if (running.size === 0) process.on('exit', stopAll);
  running.add(child);
}

function forget(child: ChildProcess): void {
  if (!running.delete(child)) return;
  if (running.size === 0) process.off('exit', stopAll);
}

function stopAll(): void {
  for (const child of running) child.kill('SIGTERM');
}

function spawnFailure(target: SshTarget, err: Error): SkiffError {
  const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
  return new SkiffError('engine-unreachable', `cannot reach the Docker engine at ${target.url}: ${missing ? 'the ssh command is not on the PATH' : `ssh did not start: ${err.message}`}`, {
    cause: err,
    hint: missing ? "install OpenSSH's client (Debian: apt-get install openssh-client)" : undefined,
  });
}

/** ssh's last word (its last line of stderr) as one line, with what to do about it. */
export function sshFailure(target: SshTarget, code: number | null, signal: NodeJS.Signals | null, stderr: string): SkiffError {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const last = lines.at(-1) ?? (signal ? `ssh was killed by ${signal}` : `ssh exited with code ${code}`);
  const all = lines.join('\n');
  const login = `${target.user ? `${target.user}@` : ''}${target.host}`;
  let hint: string | undefined;
  if (/host key verification failed|remote host identification has changed|host key .* (not known|differs)/i.test(all)) {
    hint = `check ${target.host}'s host key, then make it known: connect once with \`ssh ${target.port ? `-p ${target.port} ` : ''}${login}\`, or add \`ssh-keyscan${target.port ? ` -p ${target.port}` : ''} ${target.host}\` to known_hosts`;
  } else if (/permission denied|too many authentication failures|no supported authentication/i.test(all)) {
    hint = `make \`ssh ${target.port ? `-p ${target.port} ` : ''}${login}\` work without a prompt: a key in ssh-agent, or IdentityFile in ~/.ssh/config (SKIFF_SSH_OPTS adds ssh options)`;
  } else if (code === 127 || /docker: (command )?not found/i.test(last)) {
    hint = `the remote host needs the docker CLI (18.09 or later) on the PATH of a non-interactive ssh login, for \`docker system dial-stdio\``;
  } else if (/raw stream connection|error during connect|cannot connect to the docker daemon|dial unix/i.test(last)) {
    hint = `docker on ${target.host} could not reach its engine: is dockerd running there${target.socketPath ? `, and is ${target.socketPath} its socket` : ''}?`;
  } else if (/could not resolve|connection refused|timed out|no route to host|connection closed/i.test(last)) {
    hint = `check the host name and port, and that sshd runs on ${target.host}`;
  }
  return new SkiffError('engine-unreachable', `cannot reach the Docker engine at ${target.url}: ${last}`, { hint });
}
