import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStateStore } from '../../functions/core/adapters/sqlite';
import { forgetPerson } from '../../functions/core/privacy/forget-person';
import { type LocalDatabase, openLocalDatabase } from '../../local/database';
import { canonicalEvent } from '../support/state-store-contract';

/** The state tables as the first release created them: a data directory made before people existed. */
const FIRST_RELEASE_SCHEMA = `
CREATE TABLE event_records (
  event_id TEXT PRIMARY KEY, employee_key TEXT NOT NULL, type TEXT NOT NULL, occurred_at TEXT NOT NULL,
  status TEXT NOT NULL, attempts INTEGER NOT NULL, event TEXT NOT NULL, source TEXT NOT NULL,
  enqueued INTEGER NOT NULL, steps TEXT NOT NULL, error TEXT, note TEXT, received_at TEXT NOT NULL,
  updated_at TEXT NOT NULL, expires_at_ms INTEGER
) STRICT;
CREATE TABLE step_ledger (
  event_id TEXT NOT NULL, step_key TEXT NOT NULL, state TEXT NOT NULL, owner TEXT NOT NULL,
  lease_until_ms INTEGER NOT NULL, done_at TEXT, expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (event_id, step_key)
) STRICT, WITHOUT ROWID;
CREATE TABLE employee_marks (
  employee_key TEXT PRIMARY KEY, occurred_at TEXT NOT NULL, event_id TEXT NOT NULL
) STRICT, WITHOUT ROWID;
`;

describe('SQLite state store on a data directory from the first release', () => {
  let db: LocalDatabase | undefined;
  afterEach(() => db?.close());

  it('adds the new columns and tables, keeps old rows readable, and reads old marks as legacy marks', async () => {
    db = openLocalDatabase(':memory:');
    db.exec(FIRST_RELEASE_SCHEMA);
    const old = canonicalEvent('evt-old');
    db.prepare(
      `INSERT INTO event_records VALUES ('evt-old', 'ada@example.com', 'hire', ?, 'succeeded', 1, ?, 'events', 1,
        '[]', NULL, NULL, ?, ?, NULL)`,
    ).run(old.occurredAt, JSON.stringify(old), old.occurredAt, old.occurredAt);
    db.prepare(
      `INSERT INTO step_ledger VALUES ('evt-old', 'create', 'claimed', 'dead-worker', 0, NULL, 9999999999999)`,
    ).run();
    db.prepare("INSERT INTO employee_marks VALUES ('ada@example.com', ?, 'evt-old')").run(old.occurredAt);

    const store = createSqliteStateStore(db);

    const record = await store.events.get('evt-old');
    expect(record).toMatchObject({ eventId: 'evt-old', status: 'succeeded' });
    expect(record?.sequence).toBeUndefined();
    expect(await store.people.legacyMark('ada@example.com')).toEqual({
      at: old.occurredAt,
      sequence: 0,
      eventId: 'evt-old',
    });
    // A claim from before claimed_at_ms existed has passed any bound: it does not hold a create back.
    expect(
      await store.ledger.claim('evt-old', 'create', {
        owner: 'w',
        nowMs: Date.UTC(2026, 10, 2),
        leaseMs: 10,
        unknownBoundMs: 60_000,
      }),
    ).toEqual({ state: 'claimed' });
    const first = await store.events.reserveSequences(1);
    await store.events.accept(canonicalEvent('evt-new'), {
      source: 'events',
      at: old.occurredAt,
      sequence: first,
    });
    expect((await store.events.get('evt-new'))?.sequence).toBe(first);
    // Opening again does not add anything twice.
    expect(() => createSqliteStateStore(db as LocalDatabase)).not.toThrow();
  });

  it('gives people and links of a file made before they expired an expiry column, stamped from now', async () => {
    db = openLocalDatabase(':memory:');
    db.exec(FIRST_RELEASE_SCHEMA);
    // The tables as the version before expiry made them.
    db.exec(`
      CREATE TABLE people (person_key TEXT PRIMARY KEY, mark_at TEXT, mark_sequence INTEGER, mark_event_id TEXT,
        status TEXT, accounts TEXT NOT NULL) STRICT, WITHOUT ROWID;
      CREATE TABLE email_owners (email TEXT PRIMARY KEY, person_key TEXT NOT NULL) STRICT, WITHOUT ROWID;
      INSERT INTO people VALUES ('id:E1', NULL, NULL, NULL, 'active', '["ada@example.com"]');
      INSERT INTO email_owners VALUES ('ada@example.com', 'id:E1');
      INSERT INTO employee_marks VALUES ('ada@example.com', '2026-01-01T00:00:00.000Z', 'evt-old');
    `);
    const now = Date.UTC(2026, 10, 2);
    const store = createSqliteStateStore(db, { now: () => now });

    const stamps = db
      .prepare('SELECT expires_at_ms AS ms FROM people UNION ALL SELECT expires_at_ms FROM email_owners')
      .all() as { ms: number }[];
    expect(stamps).toEqual([{ ms: now + 30 * 86_400_000 }, { ms: now + 30 * 86_400_000 }]);
    expect(await store.people.get('id:E1')).toEqual({
      personKey: 'id:E1',
      status: 'active',
      accounts: ['ada@example.com'],
    });

    // Forgetting them takes the legacy per-email mark of their address too.
    await forgetPerson({ employeeId: 'E1' }, 'token', { store });
    expect(await store.people.legacyMark('ada@example.com')).toBeUndefined();
    expect(await store.people.ownerOf('ada@example.com')).toBeUndefined();
  });
});
