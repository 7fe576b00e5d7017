// The ssh processes skiff started and has not seen exit: any still running when the process
// exits (however it exits) are stopped with it, so no ssh outlives skiff.
import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();

export function trackProcess(child: ChildProcess): void {
  if (running.size === 0) process.on('exit', stopAll);
  running.add(child);
}

export function forgetProcess(child: ChildProcess): void {
  if (!running.delete(child)) return;
  if (running.size === 0) process.off('exit', stopAll);
}

function stopAll(): void {
  for (const child of running) child.kill('SIGTERM');
}
