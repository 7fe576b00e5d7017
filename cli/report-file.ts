// The file `skiff run --report FILE` writes. CI reads it on every outcome, so where it goes is
// checked before the run starts (a folder or a read-only place would otherwise lose the report
// of a long run at its very end), and a command line too wrong to parse still gets one.
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { RunReport } from '../lib/dag/report.js';

/**
 * Why FILE cannot take the report, or undefined when it can: its folder is made now (it would be
 * at the end anyway) and a probe file written and removed there, which is the one sure test.
 */
export async function reportFileProblem(file: string): Promise<string | undefined> {
  const target = resolve(file);
  const found = await stat(target).catch(() => undefined);
  if (found?.isDirectory()) return `--report ${file}: is a directory; give a file name`;
  const probe = `${target}.${process.pid}.probe`;
  try {
    await makeDirs(dirname(target));
    await writeFile(probe, '');
    await rm(probe, { force: true });
    return undefined;
  } catch (err) {
    return `--report ${file}: cannot write there (${describeFsError(err)})`;
  }
}

/** Temp file in the same directory, then rename: a reader never sees half a report. */
export async function writeReportFile(file: string, report: RunReport): Promise<void> {
  const target = resolve(file);
  await makeDirs(dirname(target));
  const temp = `${target}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(report, null, 2)}\n`);
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

// Not mkdir(…, { recursive: true }): Node 20's spins forever under a folder that refuses new
// entries with ENOENT (/proc), and the report must fail, not hang the run.
async function makeDirs(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info?.isDirectory()) return;
  if (info !== undefined) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
  const parent = dirname(dir);
  if (parent !== dir) await makeDirs(parent);
  await mkdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOTDIR') return (err as Error).message;
  if (code === 'ENOENT') return 'no such directory, and it cannot be made';
  return (err as Error).message;
}

/** `--report FILE` or `--report=FILE` in a `skiff run` command line clipanion could not parse. */
export function reportOptionOf(argv: readonly string[]): string | undefined {
  if (argv[0] !== 'run') return undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === '--report' && i + 1 < argv.length) return argv[i + 1];
    if (arg.startsWith('--report=')) return arg.slice('--report='.length);
  }
  return undefined;
}

/** The report of a run refused for its command line: phase `load`, nothing ran. Never throws. */
export async function writeUsageReport(file: string, message: string): Promise<void> {
  // clipanion's messages go on with the usage lines; the report keeps what went wrong.
  const report: RunReport = { status: 'failed', phase: 'load', error: `usage: ${message.split('\n')[0]!.trim()}`, steps: [], handlers: [] };
  await writeReportFile(file, report).catch(() => undefined);
}
