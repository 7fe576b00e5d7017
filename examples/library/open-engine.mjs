// Open an engine from DOCKER_HOST (a Unix socket, tcp://, or tcp:// with DOCKER_TLS_VERIFY and
// DOCKER_CERT_PATH, as the docker CLI reads them) and ask what it is.
//   node examples/library/open-engine.mjs
import { openEngine } from 'skiff';

export async function describeEngine(engine) {
  const version = await engine.serverVersion(AbortSignal.timeout(5000));
  return { engine: version.Version, api: await engine.version(), platform: `${version.Os}/${version.Arch}` };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const engine = openEngine();
  try {
    console.log(await describeEngine(engine));
  } finally {
    await engine.close();
  }
}
