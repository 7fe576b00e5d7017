// Run a DAG file from code, as `skiff run` does, and follow its events: step starts and ends,
// each step's output as it arrives (`follow`), retries, the final report. Step failures and a
// cancel (abort `signal`) come back in the report; a file that does not load throws one
// DagLoadError listing every problem with its file:line:col. recordDir / replayDir record the
// run's engine traffic or replay it with no daemon, as `skiff run --record/--replay`.
//   node examples/library/run-dag.mjs examples/hello.yaml
import { runDagFile } from 'skiff';

export async function runWithEvents(file, options = {}) {
  const events = [];
  const { report, exitCode } = await runDagFile(file, {
    ...options,
    follow: true,
    onEvent: (ev) => events.push(ev.type === 'step-output' ? `${ev.step} ${ev.stream}: ${ev.chunk}` : ev.type === 'step-end' ? `${ev.step} ${ev.status}` : ev.type),
  });
  return { status: report.status, exitCode, steps: report.steps.map((s) => `${s.name}: ${s.status}`), events };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  console.log(await runWithEvents(process.argv[2] ?? 'examples/hello.yaml', { signal: AbortSignal.timeout(60_000) }));
}
