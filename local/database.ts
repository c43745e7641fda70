import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateDir, ensurePrivateFile, type Tightened } from './private-files';

export type LocalDatabase = Database.Database;

/**
 * The local runtime keeps its queue and its state in one SQLite file (better-sqlite3). Chosen over dynalite
 * on disk because one transaction can span queue and state, every write is a synchronous microsecond call
 * instead of an HTTP round trip (dynalite managed about 300 writes a second here, below what one busy
 * worker needs), and WAL mode survives `kill -9` at any instant. The DynamoDB adapter is still proven,
 * against dynalite, by the test suite.
 */
export function openLocalDatabase(path: string, tightened: Tightened[] = []): LocalDatabase {
  // Owner only, before SQLite creates anything: it gives the -wal and -shm files the mode of the database
  // file, so a file made private first keeps its log private too. Looser files of an older version are
  // tightened; `tightened` collects them for the runtime to report.
  if (path !== ':memory:') {
    const found = [
      ensurePrivateDir(dirname(path)),
      ensurePrivateFile(path),
      ensurePrivateFile(`${path}-wal`, false),
      ensurePrivateFile(`${path}-shm`, false),
    ];
    tightened.push(...found.filter((t): t is Tightened => t !== undefined));
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // Deleted rows (a forgotten person, purged events) are overwritten with zeros, not left in free pages.
  db.pragma('secure_delete = ON');
  // NORMAL in WAL mode: a committed transaction survives a killed process; only a power cut may lose the last few.
  // Not ingest's: its group commit syncs the WAL before any request is answered 202 (group-commit.ts).
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}
