// skiff's own replay rules: what a skiff run makes up afresh each time, so that a recorded run
// replays as another run (another run id, PID, host and temp directory). The engine's replay
// knows none of this; skiff's record/replay paths (`skiff run --replay`, runDagFile) pass it.
import { tmpdir } from 'node:os';
import type { MatchRules } from './engine/replay/rules.js';
import { LABEL_HOST, LABEL_PID, LABEL_RUN } from './executors/docker/labels.js';

/** `20261123T085501Z-1a2b3c4d`, as lib/dag/run-dir.ts makes them. */
export const RUN_ID_PATTERN = /\b\d{8}T\d{6}Z-[0-9a-f]{8}\b/;

export const skiffMatchRules: MatchRules = {
  volatileLabels: [LABEL_RUN, LABEL_PID, LABEL_HOST],
  volatileValues: { 'run id': RUN_ID_PATTERN },
  tempRoots: ['/tmp', '/var/tmp', tmpdir()],
};
