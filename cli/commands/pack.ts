// `skiff pack FILE`: one file holding a DAG and every image it needs, for a host that cannot
// pull (lib/pack). `--list` says what would be carried, without pulling or writing anything.
import { Command, Option } from 'clipanion';
import { basename, extname } from 'node:path';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { contextOption, engineSelection, hostOption } from './engine-options.js';
import { paramsFromCli } from './params-option.js';
import { VerbCommand } from './verb.js';

export class PackCommand extends VerbCommand {
  static override paths = [['pack']];

  static override usage = Command.Usage({
    description: 'write a DAG and every image it needs into one file, for an air-gapped host',
    details: `
      Loads the DAG file as \`skiff run\` would, finds every image it can need (each docker step's
      \`image\` on its \`platform\`, or the DAG-level \`container.image\`), pulls the ones the engine
      lacks, and writes one tar holding the DAG file, its dotenv file, what \`--include\` names
      (e.g. the sources of relative binds), the images, and a manifest with a sha256 per member.

      On the other host, \`skiff run PACK\` checks every sha256 as it reads, loads the images its engine lacks
      and runs the DAG; \`skiff load PACK\` only loads the images.

      An image named through \`\${VAR}\` is resolved with the DAG's params and env, as a run
      resolves it; one that only a running step can know is reported with its place.
    `,
    examples: [
      ['Pack a DAG (writes build.pack.tar)', '$0 pack build.yaml'],
      ['Carry a directory that steps bind-mount', '$0 pack build.yaml --include ./data -o /media/usb/build.pack.tar'],
      ['See what would be carried', '$0 pack --list build.yaml'],
    ],
  });

  out = Option.String('--output,-o', { description: 'The pack to write (default: FILE without its extension + .pack.tar, here)' });

  include = Option.Array('--include', [], { description: 'A file or directory (inside the DAG file\'s directory) to carry too; may be repeated' });

  list = Option.Boolean('--list', false, { description: 'Print the images and files the pack would hold, and stop' });

  params = Option.Array('--params,-p', [], { description: 'Parameters, as for `skiff run` (they can decide image names)' });

  quiet = Option.Boolean('--quiet,-q', false, { description: 'Print only warnings, errors and the final line' });

  engineHost = hostOption();

  // Not `context`: clipanion's Command has its own.
  dockerContext = contextOption();

  file = Option.String({ name: 'FILE' });

  async run(): Promise<number> {
    const { stdout, stderr, env } = this.context;
    const selection = engineSelection(this);
    const [{ problemLines, displayPlace, displayPath }, { loadDag, DagLoadError }, { packNeeds }] = await Promise.all([
      import('../render/errors.js'),
      import('../../lib/dag/index.js'),
      import('../../lib/pack/index.js'),
    ]);
    const params = paramsFromCli(this.params);
    let dag;
    try {
      dag = loadDag(this.file, { params, env });
    } catch (err) {
      if (!(err instanceof DagLoadError)) throw err;
      stderr.write(problemLines(err.problems).map((l) => `${l}\n`).join(''));
      return EXIT_USAGE;
    }
    const needs = packNeeds(dag, { include: this.include, env });
    for (const u of needs.unknown) stderr.write(`skiff: warning: ${u.place ? `${displayPlace(u.place)}: ` : ''}${u.message}\n`);

    if (this.list) {
      for (const image of needs.images) {
        stdout.write(`image ${image.ref}${image.platform ? ` (${image.platform})` : ''}  ${image.places.map((p) => displayPlace(p)).join(', ')}\n`);
      }
      for (const file of needs.files) stdout.write(`file  ${file.member.slice('dag/'.length)}  ${displayPath(file.path)}\n`);
      return EXIT_OK;
    }

    const [{ openEngine }, { writePack }, { createPackProgress, formatBytes }, { trapInterrupts }, { packageVersion }] = await Promise.all([
      import('../../lib/engine/index.js'),
      import('../../lib/pack/index.js'),
      import('../render/pack-progress.js'),
      import('../signals.js'),
      import('../main.js'),
    ]);
    const view = createPackProgress(stderr, { quiet: this.quiet });
    const interrupts = trapInterrupts({ onCancel: () => view.line('cancelling… (the partial pack is removed)') });
    const engine = openEngine({ env: { ...env, ...Object.fromEntries(dag.env) }, ...selection });
    try {
      const out = this.out ?? `${basename(dag.file, extname(dag.file))}.pack.tar`;
      const written = await writePack(engine, dag, needs, { out, skiffVersion: packageVersion(), env, signal: interrupts.signal, onEvent: (ev) => view.onEvent(ev) });
      view.done();
      stdout.write(`wrote ${written.out} (${formatBytes(written.bytes)}): ${written.images.length} image(s), ${written.files.length} file(s)\n`);
      return EXIT_OK;
    } finally {
      view.done();
      interrupts.dispose();
      await engine.close();
    }
  }
}
