import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type LocalDatabase = Database.Database;

/**
 * The local runtime keeps its queue and its state in one SQLite file (better-sqlite3). Chosen over dynalite
 * on disk because one transaction can span queue and state, every write is a synchronous microsecond call
 * instead of an HTTP round trip (dynalite managed about 300 writes a second here, below what one busy
 * worker needs), and WAL mode survives `kill -9` at any instant. The DynamoDB adapter is still proven,
 * against dynalite, by the test suite.
 */
export function openLocalDatabase(path: string): LocalDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a committed transaction survives a killed process; only a power cut may lose the last few.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}
