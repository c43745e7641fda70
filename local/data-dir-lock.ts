import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One runtime per data directory: the queue schedules in memory and the runtime releases abandoned step
 * claims at start, both of which assume no other process works on the same file.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, 'runtime.pid');
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx' });
  } catch {
    const holder = Number(readFileSync(path, 'utf8'));
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `another runtime (pid ${holder}) is using ${dataDir}; stop it or set DATA_DIR to another folder`,
      );
    }
    // The holder died without cleaning up (kill -9): the lock is stale.
    writeFileSync(path, String(process.pid));
  }
  return () => rmSync(path, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
