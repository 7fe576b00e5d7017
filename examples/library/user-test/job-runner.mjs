// A small function written as a user of the library would write it: run a shell script as a
// job in a container, with its input in a fresh temp directory mounted at /work, under a job id
// it makes up (a label, the container's name, an env var). job-runner.test.mjs tests it with no
// daemon, from a recording.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DemuxStream } from 'skiff';

export const JOB_LABEL = 'com.example.job';

export async function runJob(engine, { image = 'skiff-busybox', script, input = '' }) {
  const jobId = randomUUID();
  const dir = await mkdtemp(join(tmpdir(), 'job-'));
  await writeFile(join(dir, 'input'), input);
  const { Id } = await engine.containers.create(
    { Image: image, Cmd: ['sh', '-c', script], Env: [`JOB_ID=${jobId}`], Labels: { [JOB_LABEL]: jobId }, HostConfig: { Binds: [`${dir}:/work`] } },
    { name: `job-${jobId}` },
  );
  try {
    const { result } = await engine.containers.registerWait(Id, 'next-exit');
    await engine.containers.start(Id);
    const { StatusCode } = await result;
    const info = await engine.containers.inspect(Id);
    const out = [];
    const demux = new DemuxStream(new PassThrough().on('data', (c) => out.push(c)), new PassThrough());
    (await engine.containers.logs(Id, { stdout: true, stderr: false })).pipe(demux);
    await finished(demux);
    return { jobId, exitCode: StatusCode, output: Buffer.concat(out).toString('utf8'), labelled: info.Config.Labels?.[JOB_LABEL] === jobId };
  } finally {
    await engine.containers.remove(Id, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
}
