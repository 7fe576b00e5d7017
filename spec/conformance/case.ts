// One ported conformance case: a DAG file of our own writing, how skiff is run on it, and what
// must come out. The facts come from Dagu's conformance suite (dagucloud/dagu, `conformance/`),
// named in `dagu` so spec/conformance/README.md can list what was ported and what was left out;
// the files and wording are ours.
export interface ConformanceCase {
  /** Dagu spec number, e.g. `009`. */
  spec: string;
  /** What the case shows, in our words. */
  name: string;
  /** The Dagu test case (fixture) whose fact it carries. */
  dagu: string;
  /** The DAG file, written to `dag.yaml` in a fresh directory that is also the working directory. */
  yaml: string;
  verb: 'validate' | 'run';
  /** `--params` value for `run`. */
  params?: string;
  env?: Record<string, string>;
  /** Files (and directories, when the name ends in `/`) made before the run. */
  setup?: Record<string, string>;
  /** skiff's exit code (validate: 0 ok / 2 invalid; run: 0 succeeded, 1 failed, 2 load error). */
  exit: number;
  /** Every one must appear in stderr (or, for a run, in stderr or the report's error). */
  stderr?: Array<string | RegExp>;
  /** Files in the directory with exactly this content after the command. */
  files?: Record<string, string>;
  /** Files that must not exist afterwards (a step that must not have run). */
  absent?: string[];
  /** Step statuses in the run report, by name. */
  steps?: Record<string, string>;
  /** The run report's status. */
  status?: string;
}
