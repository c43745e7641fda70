import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import Database from 'better-sqlite3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { StateTable } from '../../functions/core/adapters/dynamodb';
import { DynamoDbOffboardGuard } from '../../functions/core/adapters/dynamodb/dynamodb-offboard-guard';
import { MemoryOffboardGuard } from '../../functions/core/adapters/memory/memory-offboard-guard';
import { SqliteOffboardGuard } from '../../functions/core/adapters/sqlite/sqlite-offboard-guard';
import type { OffboardGuard } from '../../functions/core/engine/offboard-guard';
import { startDynalite } from '../support/dynalite';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 2, 9);
const limit = { max: 3, windowMs: HOUR };
const AT = '2026-11-02T09:00:00.000Z';

const dynamoStarted = startDynalite();
afterAll(async () => {
  await (await dynamoStarted).close();
});

const dynamoGuard = async () => {
  const local = await dynamoStarted;
  const table = new StateTable(local.client, await local.createTable());
  return new DynamoDbOffboardGuard(table, { now: () => T0, days: 30 });
};

const adapters: [string, () => Promise<OffboardGuard>][] = [
  ['memory', async () => new MemoryOffboardGuard()],
  ['SQLite', async () => new SqliteOffboardGuard(new Database(':memory:'))],
  ['DynamoDB (dynalite)', dynamoGuard],
];

describe.each(adapters)('OffboardGuard on %s', (_name, make) => {
  let guard: OffboardGuard;
  beforeEach(async () => {
    guard = await make();
  });

  it('admits up to the limit within the window, then refuses', async () => {
    const verdicts = [];
    for (const id of ['a', 'b', 'c', 'd', 'e']) verdicts.push(await guard.admit(id, T0, limit));
    expect(verdicts).toEqual([true, true, true, false, false]);
  });

  it('counts an event once: a redelivery of an admitted event passes without taking a place', async () => {
    expect(await guard.admit('a', T0, limit)).toBe(true);
    expect(await guard.admit('a', T0 + 1, limit)).toBe(true);
    expect(await guard.admit('a', T0 + 2, limit)).toBe(true);
    expect(await guard.admit('b', T0 + 3, limit)).toBe(true);
    expect(await guard.admit('c', T0 + 4, limit)).toBe(true);
    expect(await guard.admit('d', T0 + 5, limit)).toBe(false);
    // Full, yet an admitted event's redelivery still passes.
    expect(await guard.admit('b', T0 + 6, limit)).toBe(true);
  });

  it('slides: a place frees once its admission leaves the window', async () => {
    await guard.admit('a', T0, limit);
    await guard.admit('b', T0 + 10 * 60_000, limit);
    await guard.admit('c', T0 + 20 * 60_000, limit);
    expect(await guard.admit('d', T0 + HOUR, limit)).toBe(true); // `a` left the window at T0 + 1 h
    expect(await guard.admit('e', T0 + HOUR + 1, limit)).toBe(false);
    expect(await guard.admit('e', T0 + HOUR + 10 * 60_000, limit)).toBe(true);
  });

  it('keeps a person’s holds in acceptance order, and clears them one by one', async () => {
    await guard.hold('id:E1', { eventId: 'evt-9', sequence: 9 });
    await guard.hold('id:E1', { eventId: 'evt-3', sequence: 3 });
    await guard.hold('id:E1', { eventId: 'evt-3', sequence: 3 });
    await guard.hold('id:E2', { eventId: 'evt-5', sequence: 5 });
    expect(await guard.holdsOf('id:E1')).toEqual([
      { eventId: 'evt-3', sequence: 3 },
      { eventId: 'evt-9', sequence: 9 },
    ]);
    await guard.unhold('id:E1', 'evt-3');
    await guard.unhold('id:E1', 'evt-never-held');
    expect(await guard.holdsOf('id:E1')).toEqual([{ eventId: 'evt-9', sequence: 9 }]);
    expect(await guard.holdsOf('id:E2')).toEqual([{ eventId: 'evt-5', sequence: 5 }]);
    expect(await guard.holdsOf('id:E3')).toEqual([]);
  });

  it('records an operator’s decision per event', async () => {
    expect(await guard.decisionOf('evt-1')).toBeUndefined();
    await guard.decide('evt-1', 'released', AT);
    await guard.decide('evt-2', 'rejected', AT);
    expect(await guard.decisionOf('evt-1')).toBe('released');
    expect(await guard.decisionOf('evt-2')).toBe('rejected');
  });
});

describe('OffboardGuard on DynamoDB, shared by workers', () => {
  it('lets concurrent workers together take no more places than the limit', async () => {
    const local = await dynamoStarted;
    const tableName = await local.createTable();
    // Each worker its own client and guard on the one table, as Lambda instances are.
    const guards = Array.from(
      { length: 8 },
      () =>
        new DynamoDbOffboardGuard(new StateTable(local.createClient(), tableName), {
          now: () => T0,
          days: 30,
        }),
    );
    const verdicts = await Promise.all(guards.map((g, i) => g.admit(`evt-${i}`, T0, limit)));
    expect(verdicts.filter(Boolean)).toHaveLength(3);
    // And the window holds exactly the three admitted: a redelivery of each still passes, another does not.
    const admitted = verdicts.flatMap((ok, i) => (ok ? [`evt-${i}`] : []));
    for (const id of admitted) expect(await guards[0]?.admit(id, T0 + 1, limit)).toBe(true);
    expect(await guards[0]?.admit('evt-late', T0 + 1, limit)).toBe(false);
  });

  it('stores no email: a person’s holds are keyed by a digest', async () => {
    const local = await dynamoStarted;
    const table = new StateTable(local.client, await local.createTable());
    const guard = new DynamoDbOffboardGuard(table, { now: () => T0, days: 30 });
    await guard.hold('email:ada@example.com', { eventId: 'evt-1', sequence: 1 });
    const items = await local.client.send(new ScanCommand({ TableName: table.name }));
    expect(JSON.stringify(items.Items)).not.toContain('ada@example.com');
    expect(await guard.holdsOf('email:ada@example.com')).toEqual([{ eventId: 'evt-1', sequence: 1 }]);
  });
});

describe('a SQLite file made before `held` existed', () => {
  it('is rebuilt under the current status check on open, its events kept, and can hold an event', async () => {
    const { createSqliteStateStore } = await import('../../functions/core/adapters/sqlite');
    const db = new Database(':memory:');
    // The event table as versions before the guard made it: its CHECK refuses `held`.
    db.exec(`CREATE TABLE event_records (
      event_id TEXT PRIMARY KEY, employee_key TEXT NOT NULL, type TEXT NOT NULL, occurred_at TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'superseded', 'failed')),
      attempts INTEGER NOT NULL, event TEXT NOT NULL, source TEXT NOT NULL, enqueued INTEGER NOT NULL,
      steps TEXT NOT NULL, error TEXT, note TEXT, received_at TEXT NOT NULL, updated_at TEXT NOT NULL,
      expires_at_ms INTEGER, sequence INTEGER, dead_lettered_by TEXT) STRICT`);
    const event = {
      id: 'evt-old',
      type: 'offboard',
      occurredAt: AT,
      employee: { id: 'E1', email: 'ada@example.com' },
    };
    db.prepare(
      `INSERT INTO event_records VALUES ('evt-old', 'id:E1', 'offboard', ?, 'queued', 0, ?, 'events', 1, '[]',
        NULL, NULL, ?, ?, NULL, 7, NULL)`,
    ).run(AT, JSON.stringify(event), AT, AT);
    const store = createSqliteStateStore(db);
    await store.events.hold('evt-old', { at: AT, reason: 'held by the offboarding guard' });
    expect(await store.events.get('evt-old')).toMatchObject({ status: 'held', sequence: 7, event });
    expect((await store.events.list({ status: 'held', limit: 5 })).records).toHaveLength(1);
  });
});
