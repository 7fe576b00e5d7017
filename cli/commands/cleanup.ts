// `skiff cleanup`: remove what skiff runs that died (kill -9, a crash) left on the engine. Only
// skiff-labelled containers and networks from this host whose owning process is gone; never
// anything skiff did not create, nor what a user asked to keep.
import { Command, Option } from 'clipanion';
import { EXIT_OK } from '../exit-codes.js';
import { contextOption, engineSelection, hostOption } from './engine-options.js';

export class CleanupCommand extends Command {
  static override paths = [['cleanup']];

  static override usage = Command.Usage({
    description: 'remove containers and networks left by skiff runs that died',
    details: `
      Every run also does this when it starts. Containers kept on purpose (\`keepContainer\`, a step
      container without \`autoRemove\`) and anything skiff did not create are never touched.
    `,
    examples: [
      ['Remove leftovers of crashed runs', '$0 cleanup'],
      ['The same on a remote engine', '$0 cleanup -H ssh://user@build-host'],
    ],
  });

  engineHost = hostOption();

  // Not `context`: clipanion's Command has its own.
  dockerContext = contextOption();

  debug = Option.Boolean('--debug', false, { description: 'Show the cause chain and stack of an error' });

  async execute(): Promise<number> {
    const { openEngine } = await import('../../lib/engine/index.js');
    const { reapOrphans } = await import('../../lib/executors/docker/reap.js');
    const { reapServices } = await import('../../lib/executors/swarm/reap.js');
    const { trapInterrupts, exitCodeForSignal } = await import('../signals.js');
    const interrupts = trapInterrupts();
    let engine;
    try {
      engine = openEngine({ env: this.context.env, ...engineSelection(this) });
      // Services first: removing one removes its tasks' containers.
      const services = await reapServices(engine, { signal: AbortSignal.any([AbortSignal.timeout(60_000), interrupts.signal]) });
      for (const s of services) this.context.stdout.write(`removed swarm service ${s.name} (run ${s.run})\n`);
      const reaped = await reapOrphans(engine, { signal: AbortSignal.any([AbortSignal.timeout(60_000), interrupts.signal]) });
      for (const c of reaped.containers) this.context.stdout.write(`removed container ${c.name} (run ${c.run})\n`);
      for (const n of reaped.networks) this.context.stdout.write(`removed network ${n.name} (run ${n.run})\n`);
      this.context.stdout.write(`cleanup: ${reaped.containers.length} container(s), ${reaped.networks.length} network(s)${services.length ? `, ${services.length} swarm service(s)` : ''} removed\n`);
      return EXIT_OK;
    } catch (err) {
      if (interrupts.cancelledBy) return exitCodeForSignal(interrupts.cancelledBy);
      const { debugEnabled, reportFailure } = await import('../render/errors.js');
      return reportFailure(err, {
        stderr: this.context.stderr,
        debug: debugEnabled(this.debug, this.context.env),
        formatUsageError: (e) => `${this.cli.error(e, { command: this }).trimEnd()}\n`,
      });
    } finally {
      interrupts.dispose();
      await engine?.close();
    }
  }
}
