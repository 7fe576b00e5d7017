// One ssh login shared by every connection of an engine (docs/engine-api.md §12.5): a master
// `ssh -M` whose control socket the connections' own ssh processes go through, so a run pays
// the TCP handshake, key exchange and authentication once instead of once per connection (a
// docker step opens three or more). The first connection starts it; it stays while connections
// come and go (undici drops a connection after every HEAD request) and a while after the last
// one; the engine's pool stops it when it is closed, and a process exit stops it with the rest.
//
// Only an optimisation: a master that cannot log in, or a user who chose their own
// ControlMaster/ControlPath, means connections log in on their own, exactly as without it, and
// their ssh gives the failure in its own words.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshTarget } from './ssh-url.js';
import { forgetProcess, trackProcess } from './ssh-processes.js';

/** How often the control socket is looked for while the master logs in. */
const POLL_MS = 10;
/** How long an unused master waits for the next connection: as long as an idle connection would. */
const LINGER_MS = 30_000;

export class SshMaster {
  readonly #target: SshTarget;
  #users = 0;
  #linger: NodeJS.Timeout | undefined;
  /** The master could not log in once: the connections log in on their own from then on. */
  #failed = false;
  #running: { child: ChildProcess; dir: string; ready: Promise<string | undefined> } | undefined;

  constructor(target: SshTarget) {
    this.#target = target;
  }

  /** The user's own multiplexing settings win: then there is no master of ours. */
  static wanted(target: SshTarget): boolean {
    return !target.args.some((word) => /^Control(Master|Path|Persist)\b/i.test(word.replace(/^-o/, '')));
  }

  /**
   * Counts one more connection and gives the control socket to use, or undefined when the
   * connection must log in on its own (the master could not).
   */
  acquire(): Promise<string | undefined> {
    this.#users++;
    clearTimeout(this.#linger);
    if (this.#failed) return Promise.resolve(undefined);
    this.#running ??= this.#start();
    return this.#running.ready;
  }

  /** A connection closed: after the last one, the master waits a while for the next. */
  release(): void {
    if (--this.#users > 0) return;
    this.#users = 0;
    clearTimeout(this.#linger);
    this.#linger = setTimeout(() => void this.#stop(), LINGER_MS).unref();
  }

  /** Stops the master now (the pool is closing); settles once it has exited. */
  close(): Promise<void> {
    clearTimeout(this.#linger);
    return this.#stop();
  }

  #start(): { child: ChildProcess; dir: string; ready: Promise<string | undefined> } {
    // A directory only we can enter: whoever reaches the socket uses our login.
    const dir = mkdtempSync(join(tmpdir(), 'skiff-ssh-'));
    const socket = join(dir, 'master');
    const hostAt = this.#target.args.indexOf('--');
    const login = this.#target.args.slice(0, hostAt + 2); // options, `--`, host
    // Not `-N`: a master without a session of its own outlives a skiff that is SIGKILLed. Its
    // session is `cat` reading our pipe: when skiff dies the pipe closes, `cat` ends, and the
    // master exits once the sessions going through it have closed (ControlPersist=no).
    const child = spawn('ssh', ['-M', '-S', socket, '-o', 'ControlPersist=no', ...login, 'cat'], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    child.stdin!.on('error', () => undefined);
    trackProcess(child);
    child.on('exit', () => {
      forgetProcess(child);
      rmSync(dir, { recursive: true, force: true });
      if (this.#running?.child === child) this.#running = undefined;
    });
    const ready = new Promise<string | undefined>((resolve) => {
      let settled = false;
      const failed = (): void => {
        if (settled) return; // an exit after the socket appeared is a stop, not a failure
        settled = true;
        this.#failed = true;
        resolve(undefined);
      };
      child.once('error', failed); // no ssh: the connection reports it
      child.once('exit', failed);
      const look = (): void => {
        if (settled || child.exitCode !== null || child.signalCode !== null) return;
        if (!existsSync(socket)) return void setTimeout(look, POLL_MS);
        settled = true;
        // Logged in: an idle master never holds the process open; the connections using it do.
        child.unref();
        (child.stdin as { unref?(): void } | null)?.unref?.();
        resolve(socket);
      };
      child.once('spawn', look);
    });
    return { child, dir, ready };
  }

  #stop(): Promise<void> {
    const running = this.#running;
    if (!running) return Promise.resolve();
    this.#running = undefined;
    const { child } = running;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.ref(); // its exit is waited for
    child.stdin!.destroy();
    child.kill('SIGTERM');
    return exited;
  }
}
