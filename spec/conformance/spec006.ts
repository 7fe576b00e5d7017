// Spec 006 (env): what `${env.X}` and `$X` mean, and who expands them.
import type { ConformanceCase } from './case.js';

const r = { spec: '006', verb: 'run' as const };
const v = { spec: '006', verb: 'validate' as const, exit: 2 };

export const spec006: ConformanceCase[] = [
  {
    ...r,
    name: 'a map env entry sees the entries above it',
    dagu: 'env_forms_order',
    yaml: "env:\n  APP: web\n  HOST: ${env.APP}.local\nsteps:\n  - id: show\n    run: printf '%s %s\\n' \"$APP\" \"$HOST\" > env.txt\n",
    exit: 0,
    files: { 'env.txt': 'web web.local\n' },
  },
  {
    ...r,
    name: 'a list env resolves top to bottom; self and later references stay as written',
    dagu: 'env_top_to_bottom',
    yaml: "env:\n  - APP=web\n  - HOST=${env.APP}.local\n  - LOOP=${env.LOOP}\n  - EARLY=$LATE_ONE\n  - LATE_ONE=set\nsteps:\n  - id: show\n    run: printf '%s|%s|%s|%s\\n' \"$APP\" \"$HOST\" \"$LOOP\" \"$EARLY\" > env.txt\n",
    exit: 0,
    files: { 'env.txt': 'web|web.local|${env.LOOP}|$LATE_ONE\n' },
  },
  {
    ...r,
    name: 'in run text $X is the shell\'s, ${env.X} is resolved before the shell starts',
    dagu: 'shell_run_boundary',
    yaml: "env:\n  - APP=web\nsteps:\n  - id: show\n    run: |\n      APP=changed\n      printf '%s %s\\n' \"$APP\" \"${env.APP}\" > env.txt\n",
    exit: 0,
    files: { 'env.txt': 'changed web\n' },
  },
  {
    ...r,
    name: 'references to nothing stay as written, in every spelling',
    dagu: 'missing_env_references',
    yaml: "steps:\n  - id: show\n    run: printf '%s\\n' '${env.NOWHERE}' '$NOWHERE' '${NOWHERE}' > env.txt\n",
    exit: 0,
    files: { 'env.txt': '${env.NOWHERE}\n$NOWHERE\n${NOWHERE}\n' },
  },
  {
    ...r,
    name: 'action: exec expands ${X} itself (no shell runs); an unknown one arrives as written',
    dagu: 'direct_execution_env_expansion',
    yaml: "env:\n  - APP=web\nsteps:\n  - id: direct\n    action: exec\n    with:\n      command: sh\n      args: ['-c', 'printf \"%s\\n\" \"$0\" > env.txt', '${APP} ${NOWHERE}']\n",
    exit: 0,
    files: { 'env.txt': 'web ${NOWHERE}\n' },
  },
  {
    ...r,
    name: 'backticks in env are text (no command substitution outside eval)',
    dagu: 'spec011 outside_params_eval_backtick_literal',
    yaml: "env:\n  - WHEN=`echo ran > side.txt; echo now`\nsteps:\n  - id: show\n    run: printf '%s\\n' \"$WHEN\" > env.txt\n",
    exit: 0,
    files: { 'env.txt': '`echo ran > side.txt; echo now`\n' },
    absent: ['side.txt'],
  },
  {
    ...r,
    name: 'a step env resolves consts, params and the DAG env',
    dagu: 'step_env_sources',
    params: 'target=prod',
    yaml: "consts:\n  - color: blue\nparams:\n  - name: target\nenv:\n  - ROOT=api\nsteps:\n  - id: show\n    env:\n      - C=${consts.color}\n      - P=${params.target}\n      - R=${env.ROOT}\n    run: printf '%s %s %s\\n' \"$C\" \"$P\" \"$R\" > env.txt\n",
    exit: 0,
    files: { 'env.txt': 'blue prod api\n' },
  },
  { ...v, name: 'an env name must be a valid identifier', dagu: 'invalid_env_declaration_name', yaml: 'env:\n  - 9LIVES=x\nsteps:\n  - id: a\n    run: echo a\n', stderr: ['9LIVES'] },
  { ...v, name: 'a list env string needs an =', dagu: 'invalid_env_list_entry', yaml: 'env:\n  - JUST_A_NAME\nsteps:\n  - id: a\n    run: echo a\n', stderr: ['JUST_A_NAME'] },
];

spec006.push({
  ...r,
  name: 'dotted or bare braced text that names no variable is kept',
  dagu: 'braced_non_env_text',
  yaml: "steps:\n  - id: show\n    run: printf '%s\\n' '${not.env}' '${env}' > env.txt\n",
  exit: 0,
  files: { 'env.txt': '${not.env}\n${env}\n' },
});
