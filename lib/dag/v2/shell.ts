// How a Dagu 2.x host step's shell text is run, as shell-form commands the local executor already
// runs: a `run` list, `sh -e`, and `#!` scripts (docs/dagu-dialects.md §2).

/**
 * A `run` array: each entry in a fresh shell, in order, stopping at the first failure. A
 * subshell per entry gives each one fresh shell state (variables, directory, traps) and `&&`
 * the stop, so the step stays one shell-form command the executors already run.
 */
export function freshShells(entries: string[]): string {
  if (entries.length === 1) return entries[0]!;
  return entries.map((e) => `(\n${e}\n)`).join(' && ');
}

/** `bash` → `bash -e`: the program first, then -e, then whatever followed (so `sh -c` stays last). */
export function errexit(shell: string): string {
  const [program = '/bin/sh', ...args] = shell.trim().split(/\s+/);
  if (!/(^|\/)(sh|bash|zsh|ksh|ash|dash)$/.test(program) || args.some((a) => /^-[a-z]*e[a-z]*$/.test(a) && a !== '-c')) return shell;
  return [program, '-e', ...args].join(' ');
}

/**
 * A script with a `#!` line, run the way a kernel runs a file: written to a temporary file,
 * made executable, run, removed. The text goes through a quoted here-document, so no shell
 * expands anything in it.
 */
export function viaShebang(script: string): string {
  let end = 'SKIFF_SCRIPT';
  for (let n = 1; script.split('\n').includes(end); n++) end = `SKIFF_SCRIPT_${n}`;
  return [
    'skiff_script=$(mktemp) || exit 1',
    `cat > "$skiff_script" <<'${end}'`,
    script.endsWith('\n') ? script.slice(0, -1) : script,
    end,
    'chmod +x "$skiff_script" && "$skiff_script" && skiff_rc=0 || skiff_rc=$?',
    'rm -f "$skiff_script"',
    'exit $skiff_rc',
  ].join('\n');
}
