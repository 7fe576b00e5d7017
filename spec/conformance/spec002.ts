// Spec 002 (document schema): what makes a file loadable at all.
import type { ConformanceCase } from './case.js';

const base = { spec: '002', verb: 'validate' as const };

export const spec002: ConformanceCase[] = [
  {
    ...base,
    name: 'a one-step run file validates, and validating runs nothing',
    dagu: 'minimal_valid',
    yaml: 'steps:\n  - name: touch\n    run: echo ran > validate-ran.txt\n',
    exit: 0,
    absent: ['validate-ran.txt'],
  },
  {
    ...base,
    name: 'broken YAML is refused, naming YAML',
    dagu: 'invalid_yaml',
    yaml: 'steps:\n  - name: a\n    run: [echo, "unclosed\n',
    exit: 2,
    stderr: [/YAML/i],
  },
  {
    ...base,
    name: 'a file without steps is refused',
    dagu: 'missing_steps',
    yaml: 'working_dir: .\nenv:\n  A: b\n',
    exit: 2,
    stderr: ['step'],
  },
  {
    ...base,
    name: 'an empty steps list is refused',
    dagu: 'empty_steps',
    yaml: 'type: graph\nsteps: []\n',
    exit: 2,
    stderr: ['step'],
  },
  {
    ...base,
    name: 'an unknown root key is refused by name',
    dagu: 'unknown_root_field',
    yaml: 'retries_everywhere: 3\nsteps:\n  - name: a\n    run: echo ran > validate-ran.txt\n',
    exit: 2,
    stderr: ['invalid keys', 'retries_everywhere'],
    absent: ['validate-ran.txt'],
  },
  {
    ...base,
    name: 'a root key written twice is refused',
    dagu: 'duplicate_root_keys',
    yaml: 'steps:\n  - name: one\n    run: echo one\nsteps:\n  - name: two\n    run: echo two\n',
    exit: 2,
    stderr: ['"steps" is given twice'],
  },
];
