// Spec 015 (run, script form): a run with a line break is one script.
import type { ConformanceCase } from './case.js';

const r = { spec: '015', verb: 'run' as const };

export const spec015: ConformanceCase[] = [
  { ...r, name: 'shell state carries from line to line', dagu: 'multiline_state', yaml: 'steps:\n  - id: script\n    run: |\n      kept=yes\n      echo "$kept" > state.txt\n', exit: 0, files: { 'state.txt': 'yes\n' } },
  { ...r, name: 'operators stay in the script', dagu: 'operators_preserved', yaml: 'steps:\n  - id: script\n    run: |\n      printf "a\\nb\\n" | grep b > ops.txt\n', exit: 0, files: { 'ops.txt': 'b\n' } },
  {
    ...r,
    name: 'a script stops at its first failing line',
    dagu: 'default_fail_fast',
    yaml: 'steps:\n  - id: script\n    run: |\n      echo before > fast.txt\n      false\n      echo after >> fast.txt\n',
    exit: 1,
    files: { 'fast.txt': 'before\n' },
  },
  {
    ...r,
    name: 'a #! first line picks the interpreter, even with a DAG shell',
    dagu: 'shebang_root_shell_bypass',
    yaml: 'shell: [sh, -c]\nsteps:\n  - id: script\n    run: |\n      #!/usr/bin/env node\n      require("node:fs").writeFileSync("shebang.txt", `node ${typeof process}\\n`);\n',
    exit: 0,
    files: { 'shebang.txt': 'node object\n' },
  },
  {
    ...r,
    name: 'a step with.shell runs the script itself: the #! line is only a comment then',
    dagu: 'step_shell_suppresses_shebang',
    yaml: 'steps:\n  - id: script\n    run: |\n      #!/bin/false\n      echo shell-won > won.txt\n    with:\n      shell: sh\n',
    exit: 0,
    files: { 'won.txt': 'shell-won\n' },
  },
  {
    ...r,
    name: 'a #! not on the first line is not a shebang',
    dagu: 'leading_blank_shebang_ignored',
    yaml: 'steps:\n  - id: script\n    run: |2\n       #!/bin/false\n       echo not-shebang > leading.txt\n',
    exit: 0,
    files: { 'leading.txt': 'not-shebang\n' },
  },
  {
    ...r,
    name: 'a script cannot be run by a shell given with -c',
    dagu: 'unix_reject_c_carrier',
    yaml: 'shell: [sh, -c]\nsteps:\n  - id: script\n    run: |\n      echo ran > carrier.txt\n',
    exit: 2,
    stderr: ['script', '-c'],
    absent: ['carrier.txt'],
  },
];
