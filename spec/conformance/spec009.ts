// Spec 009 (step references): ids, names and depends.
import type { ConformanceCase } from './case.js';

const v = { spec: '009', verb: 'validate' as const };
const r = { spec: '009', verb: 'run' as const };

export const spec009: ConformanceCase[] = [
  { ...v, name: 'depends: [] is allowed in a graph', dagu: 'valid_empty_depends', yaml: 'type: graph\nsteps:\n  - id: alone\n    depends: []\n    run: echo alone\n', exit: 0 },
  { ...v, name: 'depends: null means no depends', dagu: 'valid_null_depends', yaml: 'type: graph\nsteps:\n  - id: alone\n    depends: null\n    run: echo alone\n', exit: 0 },
  {
    ...v,
    name: 'a number in depends is read as the name it spells',
    dagu: 'valid_non_string_depends',
    yaml: 'type: graph\nsteps:\n  - name: "7"\n    run: echo seven\n  - id: next\n    depends: [7]\n    run: echo next\n',
    exit: 0,
  },
  {
    ...v,
    name: 'a step with only an id is named by it, and can be depended on by it',
    dagu: 'valid_id_promoted_to_name',
    yaml: 'steps:\n  - id: fetch\n    run: echo fetch\n  - id: unpack\n    depends: fetch\n    run: echo unpack\n',
    exit: 0,
  },
  {
    ...r,
    name: 'depends may name a step by its id',
    dagu: 'valid_id_dependency',
    yaml: 'steps:\n  - id: compile\n    name: Compile sources\n    run: echo compile > order.txt\n  - id: ship\n    name: Ship it\n    depends: compile\n    run: echo ship >> order.txt\n',
    exit: 0,
    files: { 'order.txt': 'compile\nship\n' },
    steps: { 'Compile sources': 'succeeded', 'Ship it': 'succeeded' },
  },
  {
    ...r,
    name: 'depends may name a step by its name',
    dagu: 'valid_name_dependency',
    yaml: 'steps:\n  - id: compile\n    name: Compile sources\n    run: echo compile > order.txt\n  - id: ship\n    depends: Compile sources\n    run: echo ship >> order.txt\n',
    exit: 0,
    files: { 'order.txt': 'compile\nship\n' },
  },
  {
    ...r,
    name: 'ids and names are trimmed before they are matched',
    dagu: 'valid_trimmed_identity',
    yaml: 'steps:\n  - id: " first "\n    name: " First step "\n    run: echo first > trimmed.txt\n  - id: by_name\n    depends: First step\n    run: echo by-name >> trimmed.txt\n  - id: by_id\n    depends: [by_name, first]\n    run: echo by-id >> trimmed.txt\n',
    exit: 0,
    files: { 'trimmed.txt': 'first\nby-name\nby-id\n' },
    steps: { 'First step': 'succeeded', by_name: 'succeeded', by_id: 'succeeded' },
  },
  { ...v, name: 'two steps with one id are refused', dagu: 'invalid_duplicate_id', yaml: 'steps:\n  - id: job\n    name: a\n    run: echo a\n  - id: job\n    name: b\n    run: echo b\n', exit: 2, stderr: ['duplicate step ID'] },
  { ...v, name: 'ids equal after trimming are duplicates', dagu: 'invalid_trimmed_duplicate_id', yaml: 'steps:\n  - id: " job "\n    name: a\n    run: echo a\n  - id: job\n    name: b\n    run: echo b\n', exit: 2, stderr: ['duplicate step ID'] },
  { ...v, name: 'two steps with one name are refused', dagu: 'invalid_duplicate_name', yaml: 'steps:\n  - name: same\n    run: echo a\n  - name: same\n    run: echo b\n', exit: 2, stderr: ['step name', 'unique'] },
  { ...v, name: 'an id with a hyphen is refused, pointing at underscores', dagu: 'invalid_id_syntax', yaml: 'steps:\n  - id: build-image\n    run: echo a\n', exit: 2, stderr: ['invalid step ID format', "use '_' instead of '-'"] },
  { ...v, name: 'a reserved word cannot be an id', dagu: 'invalid_reserved_id', yaml: 'steps:\n  - id: Stdout\n    run: echo a\n', exit: 2, stderr: ['reserved word'] },
  { ...v, name: 'an id longer than 40 characters is refused', dagu: 'invalid_id_too_long', yaml: `steps:\n  - id: ${'x'.repeat(41)}\n    run: echo a\n`, exit: 2, stderr: ['step ID must be at most 40'] },
  { ...v, name: 'a name longer than 255 bytes is refused', dagu: 'invalid_name_too_long', yaml: `steps:\n  - name: ${'n'.repeat(256)}\n    run: echo a\n`, exit: 2, stderr: ['step name must be at most 255'] },
  { ...v, name: 'the 255 limit counts UTF-8 bytes, not characters', dagu: 'invalid_name_utf8_byte_length', yaml: `steps:\n  - id: wide\n    name: "${'é'.repeat(128)}"\n    run: echo a\n`, exit: 2, stderr: ['step name must be at most 255'] },
  { ...v, name: 'a 100-character name is fine (1.2x stopped at 40)', dagu: 'invalid_name_too_long (boundary)', yaml: `steps:\n  - name: ${'n'.repeat(100)}\n    run: echo a\n`, exit: 0 },
  { ...v, name: "an id may not be another step's name", dagu: 'invalid_id_name_conflict', yaml: 'steps:\n  - name: deploy\n    run: echo a\n  - id: deploy\n    name: other\n    run: echo b\n', exit: 2, stderr: ['conflicts'] },
  { ...v, name: 'depends matches case-sensitively', dagu: 'invalid_dependency_case_mismatch', yaml: 'type: graph\nsteps:\n  - name: Build\n    run: echo a\n  - name: test\n    depends: build\n    run: echo b\n', exit: 2, stderr: ['depends on non-existent step'] },
  { ...v, name: 'depends on a step that does not exist is refused', dagu: 'invalid_unknown_dependency', yaml: 'steps:\n  - name: a\n    depends: ghost\n    run: echo a\n', exit: 2, stderr: ['depends on non-existent step'] },
  { ...v, name: 'depends must be a string or a list', dagu: 'invalid_depends_shape', yaml: 'type: graph\nsteps:\n  - name: a\n    run: echo a\n  - name: b\n    depends: {a: true}\n    run: echo b\n', exit: 2, stderr: ['depends'] },
  { ...v, name: 'type: chain forbids depends, even an empty list', dagu: 'invalid_chain_depends_empty', yaml: 'type: chain\nsteps:\n  - id: one\n    run: echo one\n  - id: two\n    depends: []\n    run: echo two\n', exit: 2, stderr: ['depends field is not allowed'] },
  {
    ...r,
    name: 'a cycle fails the run before any step runs',
    dagu: 'invalid_cycle',
    yaml: 'type: graph\nsteps:\n  - name: a\n    depends: b\n    run: echo a > a.txt\n  - name: b\n    depends: a\n    run: echo b > b.txt\n',
    exit: 2,
    stderr: ['cycle'],
    absent: ['a.txt', 'b.txt'],
  },
];

spec009.push({
  ...v,
  name: 'depends entries are matched as written, not trimmed',
  dagu: 'invalid_dependency_untrimmed',
  yaml: 'type: graph\nsteps:\n  - id: build\n    name: Build\n    run: echo a\n  - id: deploy\n    depends: " build "\n    run: echo b\n',
  exit: 2,
  stderr: ['depends on non-existent step'],
});
