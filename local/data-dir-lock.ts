import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * One runtime per data directory: the queue schedules in memory and the runtime releases abandoned step
 * claims at start, both of which assume no other process works on the same file.
 *
 * The lock is an exclusive SQLite lock on `runtime.lock` (a POSIX file lock underneath): the kernel drops
 * it the moment the holder dies, `kill -9` included. A pid file alone could not tell: right after
 * `kill -9` the killed process can linger as a zombie whose pid still looks alive. The pid is written
 * beside it only to name the holder in the error.
 */
export function lockDataDir(dataDir: string): () => void {
  const lock = new Database(join(dataDir, 'runtime.lock'), { timeout: 0 });
  const pidFile = join(dataDir, 'runtime.pid');
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    // The first write under EXCLUSIVE locking mode takes the lock and keeps it until the connection closes.
    lock.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS held (at TEXT); COMMIT;');
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    throw new Error(
      `another runtime${holderOf(pidFile)} is using ${dataDir}; stop it or set DATA_DIR to another folder`,
    );
  }
  writeFileSync(pidFile, String(process.pid), { mode: 0o600 });
  return () => {
    rmSync(pidFile, { force: true });
    lock.close();
  };
}

function holderOf(pidFile: string): string {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    return Number.isInteger(pid) ? ` (pid ${pid})` : '';
  } catch {
    return '';
  }
}
