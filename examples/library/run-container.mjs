// Run a container and read its output, stdout and stderr apart: attach before start (so no
// output is missed), register the wait before start (so the exit is not missed), and pipe the
// attached stream through a DemuxStream, which splits Docker's framed stream in two.
//   node examples/library/run-container.mjs
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DemuxStream, openEngine } from 'skiff';

export async function runContainer(engine, image, cmd) {
  const { Id } = await engine.containers.create({ Image: image, Cmd: cmd });
  try {
    const { socket } = await engine.containers.attach(Id, { stdout: true, stderr: true });
    const { result } = await engine.containers.registerWait(Id, 'next-exit');
    const stdout = collect();
    const stderr = collect();
    const demux = new DemuxStream(stdout.stream, stderr.stream);
    socket.pipe(demux);
    await engine.containers.start(Id);
    const { StatusCode } = await result;
    await finished(demux);
    return { exitCode: StatusCode, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    await engine.containers.remove(Id, { force: true });
  }
}

function collect() {
  const chunks = [];
  const stream = new PassThrough();
  stream.on('data', (c) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const engine = openEngine();
  try {
    console.log(await runContainer(engine, 'skiff-busybox', ['sh', '-c', 'echo hello; echo oops >&2; exit 3']));
  } finally {
    await engine.close();
  }
}
