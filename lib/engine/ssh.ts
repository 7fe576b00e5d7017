// One connection to a remote engine over ssh, as the docker CLI makes it (docs/engine-api.md
// §12.4): an `ssh` child running `docker system dial-stdio` on the far side (ssh-url.ts), its
// stdin and stdout used as the socket. One process per connection; the connection owns it:
// destroying the connection stops it, and a process exit stops any still running. ssh runs in a
// session of its own (as the CLI starts it), so a Ctrl-C at the terminal reaches skiff, which
// still needs the connection to stop its containers, and not ssh. ssh's own failures (host key,
// login, no docker over there) are its last line of stderr, given back as the connection's error.
// With a master (ssh-master.ts) the process goes through the master's login instead of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import { SkiffError } from './errors.js';
import type { SshMaster } from './ssh-master.js';
import { forgetProcess, trackProcess } from './ssh-processes.js';
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
  /** Absent while the master logs in; the connection is not handed out before it exists. */
  #child: ChildProcess | undefined;
  #stderr = '';
  /** ssh could not be started (or never will be: destroyed first): there is no process to wait for. */
  #neverStarted = false;
  #master: SshMaster | undefined;

  constructor(target: SshTarget, master?: SshMaster) {
    super();
    this.#master = master;
    this.started = (master ? master.acquire() : Promise.resolve(undefined)).then((controlPath) => this.#spawn(target, controlPath));
    // Nobody may be waiting for it (the caller gets the failure from `started` or as an error).
    this.started.catch(() => undefined);
  }

  #spawn(target: SshTarget, controlPath: string | undefined): Promise<void> {
    if (this.destroyed) {
      this.#neverStarted = true;
      throw new SkiffError('engine-unreachable', `the connection to ${target.url} was closed before it opened`);
    }
    const args = controlPath ? ['-S', controlPath, '-o', 'ControlMaster=no', ...target.args] : target.args;
    const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.#child = child;
    trackProcess(child);
    let spawned = false;
    let failedToStart: (err: Error) => void = () => undefined;
    const started = new Promise<void>((resolve, reject) => {
      failedToStart = reject;
      child.once('spawn', () => {
        spawned = true;
        resolve();
      });
    });
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
      this.#forget(child);
      failedToStart(spawnFailure(target, err));
      this.destroy();
    });
    child.on('exit', () => this.#forget(child));
    // After the exit and the end of its output: EOF when ssh succeeded, else ssh's reason.
    child.on('close', (code, signal) => {
      if (this.destroyed) return;
      if (code === 0) this.push(null);
      else this.destroy(sshFailure(target, code, signal, this.#stderr));
    });
    return started;
  }

  /** The process is gone: it no longer needs stopping at exit, nor the master. */
  #forget(child: ChildProcess): void {
    forgetProcess(child);
    this.#releaseMaster();
  }

  #releaseMaster(): void {
    const master = this.#master;
    this.#master = undefined;
    master?.release();
  }

  get #exited(): boolean {
    const child = this.#child;
    return this.#neverStarted || child === undefined || child.exitCode !== null || child.signalCode !== null;
  }

  override _read(): void {
    this.#child?.stdout!.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Called back once the pipe took it: that is the backpressure. A failed write is reported by
    // the exit status instead.
    if (!this.#child) return callback(new Error('ssh has not started'));
    this.#child.stdin!.write(chunk, () => callback());
  }

  /** A half-close (stdin EOF of an exec) travels as ssh's EOF; output keeps coming. */
  override _final(callback: (error?: Error | null) => void): void {
    this.#child?.stdin!.end();
    callback();
  }

  /** Closed once ssh has exited (and is reaped): closing the pool then leaves no process behind. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const child = this.#child;
    if (child === undefined) {
      // Still waiting for the master: #spawn sees `destroyed` and starts nothing.
      this.#releaseUnstarted();
      return callback(error);
    }
    if (this.#exited) return callback(error);
    child.once('exit', () => callback(error));
    this.#stop(child);
  }

  #releaseUnstarted(): void {
    this.started.catch(() => undefined).finally(() => {
      if (this.#child === undefined) this.#releaseMaster();
    });
  }

  // undici unrefs an idle keep-alive connection so that it never holds the process open.
  ref(): this {
    const child = this.#child;
    child?.ref();
    for (const pipe of [child?.stdin, child?.stdout, child?.stderr]) (pipe as { ref?(): void } | null | undefined)?.ref?.();
    return this;
  }

  unref(): this {
    const child = this.#child;
    child?.unref();
    for (const pipe of [child?.stdin, child?.stdout, child?.stderr]) (pipe as { unref?(): void } | null | undefined)?.unref?.();
    return this;
  }

  #stop(child: ChildProcess): void {
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
