// skiff's own replay rules: what a skiff run makes up afresh each time, so that a recorded run
// replays as another run (another run id, PID, host and temp directory). The engine's replay
// knows none of this; skiff's record/replay paths (`skiff run --replay`, runDagFile) pass it.
import { tmpdir } from 'node:os';
import type { MatchRules } from './engine/replay/rules.js';
import { RUN_ID_PATTERN } from './dag/run-dir.js';
import { LABEL_HOST, LABEL_PID, LABEL_RUN } from './executors/docker/labels.js';

export const skiffMatchRules: MatchRules = {
  volatileLabels: [LABEL_RUN, LABEL_PID, LABEL_HOST],
  volatileValues: { 'run id': RUN_ID_PATTERN },
  tempRoots: ['/tmp', '/var/tmp', tmpdir()],
};
