import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LocalDatabase, openLocalDatabase } from '../../local/database';
import { startWalCheckpointer, type WalCheckpointer } from '../../local/wal-checkpointer';

let dir: string;
let db: LocalDatabase;
let checkpointer: WalCheckpointer | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hrp-checkpointer-'));
  db = openLocalDatabase(join(dir, 'pipeline.db'));
  db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
});

afterEach(async () => {
  await checkpointer?.stop();
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const fileSize = (name: string) => statSync(join(dir, name)).size;

describe('the WAL checkpointer', () => {
  it('copies committed pages into the database file from its own thread, the writer never checkpointing', async () => {
    checkpointer = startWalCheckpointer(db, 10);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(8_192);
    const before = fileSize('pipeline.db');
    const insert = db.prepare('INSERT INTO rows (text) VALUES (?)');
    // Far below the writer's own mark: only the checkpointer moves pages into the file.
    for (let i = 0; i < 200; i++) insert.run('x'.repeat(2_000));

    await vi.waitFor(() => expect(fileSize('pipeline.db')).toBeGreaterThan(before + 200 * 2_000), {
      timeout: 10_000,
      interval: 20,
    });
  });

  it('stops, and the database then closes as the last connection: the WAL is checkpointed and removed', async () => {
    const running = startWalCheckpointer(db, 10);
    db.prepare('INSERT INTO rows (text) VALUES (?)').run('kept');

    await running?.stop();
    db.close();

    expect(existsSync(join(dir, 'pipeline.db-wal'))).toBe(false);
    const reopened = openLocalDatabase(join(dir, 'pipeline.db'));
    expect(reopened.prepare('SELECT text FROM rows').pluck().all()).toEqual(['kept']);
    reopened.close();
  });

  it('has nothing to do for an in-memory database', () => {
    const memory = openLocalDatabase(':memory:');
    expect(startWalCheckpointer(memory)).toBeUndefined();
    memory.close();
  });
});
