// `skiff load PACK`: check a pack made by `skiff pack` and load the images the engine lacks,
// without running anything (lib/pack).
import { Command, Option } from 'clipanion';
import { EXIT_OK } from '../exit-codes.js';
import { contextOption, engineSelection, hostOption } from './engine-options.js';
import { VerbCommand } from './verb.js';

export class LoadCommand extends VerbCommand {
  static override paths = [['load']];

  static override usage = Command.Usage({
    description: "load a pack's images into the engine",
    details: `
      Loads into the engine the images of a pack written by \`skiff pack\` that it does not have
      yet (an image is known by its id, whatever its name), checking every member against its
      sha256 as it is read: no byte that does not match reaches the engine, and nothing is loaded
      from a pack that is truncated or was changed.
    `,
    examples: [['Load the images of a pack', '$0 load build.pack.tar']],
  });

  quiet = Option.Boolean('--quiet,-q', false, { description: 'Print only errors and the final line' });

  engineHost = hostOption();

  // Not `context`: clipanion's Command has its own.
  dockerContext = contextOption();

  pack = Option.String({ name: 'PACK' });

  async run(): Promise<number> {
    const { stdout, stderr, env } = this.context;
    const selection = engineSelection(this);
    const [{ loadPack }, { createPackProgress }, { trapInterrupts }] = await Promise.all([
      import('../../lib/pack/load.js'),
      import('../render/pack-progress.js'),
      import('../signals.js'),
    ]);
    const view = createPackProgress(stderr, { quiet: this.quiet });
    const interrupts = trapInterrupts({ onCancel: () => view.line('cancelling…') });
    try {
      const result = await loadPack(this.pack, { env, selection, signal: interrupts.signal, onEvent: (ev) => view.onEvent(ev) });
      view.done();
      stdout.write(`${loadSummary(result.loaded.length, result.present.length)}\n`);
      return EXIT_OK;
    } finally {
      view.done();
      interrupts.dispose();
    }
  }
}

/** `loaded 2 image(s); 1 already in the engine` / `nothing to load: …`. */
export function loadSummary(loaded: number, present: number): string {
  if (loaded === 0) return `nothing to load: the engine has all ${present} image(s) of the pack`;
  return `loaded ${loaded} image(s)${present > 0 ? `; ${present} already in the engine` : ''}`;
}
