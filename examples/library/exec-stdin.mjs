// Exec a command with stdin in a running container: create the exec with AttachStdin, start it
// (the connection is taken over), write the input and half-close (stdin EOF) with feedStdin,
// read the framed output, then inspect the exec for its exit code.
//   node examples/library/exec-stdin.mjs
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DemuxStream, feedStdin, openEngine } from 'skiff';

export async function execWithStdin(engine, image, cmd, input) {
  const { Id } = await engine.containers.create({ Image: image, Cmd: ['sleep', '60'] });
  try {
    await engine.containers.start(Id);
    const execId = await engine.exec.create(Id, { Cmd: cmd, AttachStdin: true });
    const { socket } = await engine.exec.start(execId, false);
    const out = [];
    const stdout = new PassThrough().on('data', (c) => out.push(c));
    const demux = new DemuxStream(stdout, new PassThrough());
    socket.pipe(demux);
    feedStdin(socket, input);
    await finished(demux);
    const { ExitCode } = await engine.exec.inspect(execId);
    return { exitCode: ExitCode, stdout: Buffer.concat(out).toString('utf8') };
  } finally {
    await engine.containers.remove(Id, { force: true });
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const engine = openEngine();
  try {
    console.log(await execWithStdin(engine, 'skiff-busybox', ['wc', '-c'], 'twelve bytes'));
  } finally {
    await engine.close();
  }
}
