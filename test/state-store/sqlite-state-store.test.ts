import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStateStore, purgeExpired } from '../../functions/core/adapters/sqlite';
import {
  MAX_EVENT_TEXT_LENGTH,
  MAX_STEP_ERROR_LENGTH,
  MAX_STORED_STEPS,
} from '../../functions/core/engine/event-record';
import type { StateStore } from '../../functions/core/engine/ports';
import { type LocalDatabase, openLocalDatabase } from '../../local/database';
import {
  canonicalEvent,
  describeStateStoreContract,
  type ExpiryProbe,
  stepRecord,
} from '../support/state-store-contract';

const NOW_MS = Date.UTC(2026, 10, 2, 9, 0, 0);
const DAY_MS = 86_400_000;
const AT = '2026-11-02T09:00:00.000Z';
const LATER = '2026-11-02T10:00:00.000Z';

/**
 * A process that runs events through the state store one after another, each as the worker would (accept,
 * enqueue, attempt, claim, step, complete, mark, finish), until it is killed.
 */
const WRITER = `
const { createSqliteStateStore } = await import(process.env.STORE_MODULE);
const { openLocalDatabase } = await import(process.env.DATABASE_MODULE);
const store = createSqliteStateStore(openLocalDatabase(process.env.STATE_DB));
const at = '${AT}';
for (let i = 0; ; i++) {
  const id = 'evt-' + String(i).padStart(6, '0');
  const occurredAt = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  const event = { id, type: 'hire', occurredAt, employee: { id: 'E' + i, email: 'e' + i + '@example.com' } };
  await store.events.accept(event, { source: 'events', at, sequence: 1 });
  await store.events.markEnqueued(id, at);
  await store.events.startAttempt(event, at);
  await store.ledger.claim(id, 'create', { owner: 'w', nowMs: Date.now(), leaseMs: 60000 });
  const step = { key: 'create', action: 'invite', outcome: 'done', attempt: 1, startedAt: at, durationMs: 1 };
  await store.events.addStep(id, step);
  await store.ledger.complete(id, 'create', 'w', at);
  const person = { personKey: 'id:E' + i, mark: { at: occurredAt, sequence: i, eventId: id }, status: 'active', current: 'e' + i + '@example.com' };
  await store.recordSuccess(id, { at }, person);
}
`;

/** A directory of its own for a file database, removed with everything in it. */
async function tempDirectory() {
  const path = await mkdtemp(join(tmpdir(), 'sqlite-state-store-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** The expiry stamps of people and email links, as the rows hold them. */
const expiryProbe = (db: LocalDatabase): ExpiryProbe => ({
  person: async (key) =>
    (
      db.prepare('SELECT expires_at_ms AS ms FROM people WHERE person_key = ?').get(key) as
        | { ms: number }
        | undefined
    )?.ms,
  owner: async (email) =>
    (
      db.prepare('SELECT expires_at_ms AS ms FROM email_owners WHERE email = ?').get(email) as
        | { ms: number }
        | undefined
    )?.ms,
});

describeStateStoreContract('SQLite (in memory)', async (clock) => {
  const db = openLocalDatabase(':memory:');
  return {
    store: createSqliteStateStore(db, { now: clock.now }),
    expiry: expiryProbe(db),
    cleanup: async () => void db.close(),
  };
});

describeStateStoreContract('SQLite (file, WAL)', async (clock) => {
  const dir = await tempDirectory();
  const db = openLocalDatabase(join(dir.path, 'state.db'));
  return {
    store: createSqliteStateStore(db, { now: clock.now }),
    expiry: expiryProbe(db),
    cleanup: async () => {
      db.close();
      await dir.remove();
    },
  };
});

describe('SQLite state store specifics', () => {
  let dir: Awaited<ReturnType<typeof tempDirectory>>;
  let file: string;
  let db: LocalDatabase;
  let store: StateStore;

  beforeEach(async () => {
    dir = await tempDirectory();
    file = join(dir.path, 'nested', 'state.db');
    db = openLocalDatabase(file);
    store = createSqliteStateStore(db, { now: () => NOW_MS });
  });
  afterEach(async () => {
    if (db.open) db.close();
    await dir.remove();
  });

  describe('durability', () => {
    it('keeps records, ledger and marks across closing and reopening the file', async () => {
      await store.events.accept(canonicalEvent('evt-1'), { source: 'events', at: AT, sequence: 1 });
      await store.events.markEnqueued('evt-1', AT);
      await store.events.startAttempt(canonicalEvent('evt-1'), AT);
      await store.events.addStep('evt-1', stepRecord('create'));
      await store.events.finish('evt-1', { status: 'succeeded', at: LATER, note: 'invited' });
      await store.events.accept(canonicalEvent('evt-2'), { source: 'batch:b1', at: AT, sequence: 1 });
      await store.ledger.claim('evt-1', 'create', { owner: 'a', nowMs: NOW_MS, leaseMs: 60_000 });
      await store.ledger.complete('evt-1', 'create', 'a', AT);
      await store.ledger.claim('evt-2', 'create', { owner: 'a', nowMs: NOW_MS, leaseMs: 60_000 });
      const applied = { personKey: 'id:E1', mark: { at: AT, sequence: 1, eventId: 'evt-1' } };
      await store.recordSuccess(
        'evt-1',
        { at: LATER, note: 'invited' },
        { ...applied, status: 'active', current: 'ada@example.com' },
      );
      await store.people.link('id:E1', 'ada@example.com', undefined);
      const before = [await store.events.get('evt-1'), await store.events.get('evt-2')];
      db.close();

      db = openLocalDatabase(file);
      const reopened = createSqliteStateStore(db, { now: () => NOW_MS });

      expect([await reopened.events.get('evt-1'), await reopened.events.get('evt-2')]).toEqual(before);
      expect(await reopened.events.get('evt-1')).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        enqueued: true,
        note: 'invited',
        steps: [stepRecord('create')],
      });
      expect((await reopened.events.list({ status: 'queued', limit: 10 })).records).toEqual([before[1]]);
      expect(
        await reopened.ledger.claim('evt-1', 'create', { owner: 'b', nowMs: NOW_MS, leaseMs: 1 }),
      ).toEqual({
        state: 'done',
      });
      expect(
        await reopened.ledger.claim('evt-2', 'create', { owner: 'b', nowMs: NOW_MS, leaseMs: 1 }),
      ).toEqual({
        state: 'held',
        untilMs: NOW_MS + 60_000,
      });
      expect(await reopened.people.get('id:E1')).toEqual({
        personKey: 'id:E1',
        mark: applied.mark,
        status: 'active',
        accounts: ['ada@example.com'],
      });
      expect(await reopened.people.ownerOf('ada@example.com')).toBe('id:E1');
    });

    it('is consistent after the writing process is killed with SIGKILL mid-stream', async () => {
      const succeeded = db.prepare<[], { n: number }>(
        "SELECT count(*) AS n FROM event_records WHERE status = 'succeeded'",
      );
      const writer = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WRITER], {
        env: {
          ...process.env,
          STATE_DB: file,
          STORE_MODULE: new URL('../../functions/core/adapters/sqlite/index.ts', import.meta.url).href,
          DATABASE_MODULE: new URL('../../local/database.ts', import.meta.url).href,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const exited = once(writer, 'exit');
      try {
        const deadline = Date.now() + 20_000;
        while ((succeeded.get()?.n ?? 0) < 300 && Date.now() < deadline && writer.exitCode === null)
          await sleep(20);
      } finally {
        writer.kill('SIGKILL');
      }
      const [, signal] = await exited;
      expect(signal).toBe('SIGKILL');
      db.close();

      db = openLocalDatabase(file);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const reopened = createSqliteStateStore(db, { now: () => NOW_MS });
      const records = (await reopened.events.list({ limit: 1_000_000 })).records.sort((a, b) =>
        a.eventId.localeCompare(b.eventId),
      );
      expect(records.length).toBeGreaterThanOrEqual(300);
      const last = records.at(-1);
      // Writes run one after another, so only the event in hand when the kill came may be unfinished.
      for (const record of records.slice(0, -1)) {
        expect(record).toMatchObject({ status: 'succeeded', attempts: 1, enqueued: true });
        expect(record.steps).toHaveLength(1);
        expect(
          await reopened.ledger.claim(record.eventId, 'create', { owner: 'x', nowMs: 0, leaseMs: 1 }),
        ).toEqual({ state: 'done' });
      }
      expect(last?.steps.length).toBeLessThanOrEqual(1);
      if (last) {
        const resumed = await reopened.events.startAttempt(last.event, LATER);
        expect(resumed.status).toBe(last.status === 'succeeded' ? 'succeeded' : 'running');
      }
    });

    it('gives a step to exactly one of two connections to the same file', async () => {
      const otherDb = openLocalDatabase(file);
      const other = createSqliteStateStore(otherDb, { now: () => NOW_MS });
      try {
        for (let i = 0; i < 10; i++) {
          const results = await Promise.all([
            store.ledger.claim('evt-1', `step-${i}`, { owner: 'a', nowMs: NOW_MS, leaseMs: 30_000 }),
            other.ledger.claim('evt-1', `step-${i}`, { owner: 'b', nowMs: NOW_MS, leaseMs: 30_000 }),
          ]);
          expect(results.map((r) => r.state).sort()).toEqual(['claimed', 'held']);
        }
      } finally {
        otherDb.close();
      }
    });
  });

  describe('purgeExpired', () => {
    let clock: number;

    beforeEach(() => {
      clock = NOW_MS;
      store = createSqliteStateStore(db, { now: () => clock, retentionDays: 7 });
    });

    const ids = async () => (await store.events.list({ limit: 100 })).records.map((r) => r.eventId).sort();

    it('deletes expired terminal events and ledger rows, never open events or people still kept', async () => {
      for (const status of ['succeeded', 'superseded', 'failed'] as const) {
        await store.events.startAttempt(canonicalEvent(`evt-${status}`), AT);
        await store.events.finish(`evt-${status}`, { status, at: AT });
      }
      await store.events.accept(canonicalEvent('evt-queued'), { source: 'events', at: AT, sequence: 1 });
      await store.events.startAttempt(canonicalEvent('evt-running'), AT);
      // Finished, then live again: a reopened or requeued failure must not expire under its next try.
      await store.events.startAttempt(canonicalEvent('evt-reopened'), AT);
      await store.events.finish('evt-reopened', { status: 'failed', at: AT, error: 'HTTP 422' });
      await store.events.startAttempt(canonicalEvent('evt-reopened'), AT);
      await store.events.startAttempt(canonicalEvent('evt-requeued'), AT);
      await store.events.finish('evt-requeued', { status: 'failed', at: AT, error: 'HTTP 422' });
      await store.events.requeue('evt-requeued', { at: AT, error: 'HTTP 503' });
      await store.ledger.claim('evt-succeeded', 'create', { owner: 'a', nowMs: clock, leaseMs: 1 });
      await store.ledger.complete('evt-succeeded', 'create', 'a', AT);
      const person = { personKey: 'id:E1', mark: { at: AT, sequence: 1, eventId: 'evt-succeeded' } };
      await store.recordSuccess(
        'evt-succeeded',
        { at: AT },
        { ...person, status: 'active', current: 'a@x.com' },
      );

      // A day later: a ledger row written now outlives the ones written at the start.
      clock = NOW_MS + DAY_MS;
      await store.ledger.claim('evt-running', 'create', { owner: 'a', nowMs: clock, leaseMs: 1 });

      const none = { people: 0, emails: 0 };
      expect(purgeExpired(db, NOW_MS + 7 * DAY_MS)).toEqual({ events: 0, steps: 0, ...none });
      expect(purgeExpired(db, NOW_MS + 7 * DAY_MS + 1)).toEqual({ events: 3, steps: 1, ...none });

      expect(await ids()).toEqual(['evt-queued', 'evt-reopened', 'evt-requeued', 'evt-running']);
      expect(
        await store.ledger.claim('evt-succeeded', 'create', { owner: 'b', nowMs: clock, leaseMs: 1 }),
      ).toEqual({ state: 'claimed' });
      expect((await store.people.get('id:E1'))?.mark).toEqual(person.mark);

      expect(purgeExpired(db, NOW_MS + 8 * DAY_MS + 1)).toEqual({ events: 0, steps: 2, ...none });
      // A person outlives a 7-day retention: they are kept as long as a dead letter (14 days).
      expect(await store.people.get('id:E1')).toBeDefined();
      expect(await ids()).toHaveLength(4);
    });

    it('runs on a database whose state tables do not exist yet', () => {
      const empty = openLocalDatabase(':memory:');
      expect(purgeExpired(empty, NOW_MS)).toEqual({ events: 0, steps: 0, people: 0, emails: 0 });
      empty.close();
    });

    it('deletes people and their links once the retention has passed since their last event', async () => {
      // Retention 7 days: people are kept at least as long as a dead letter, 14 days.
      await store.people.link('id:E1', 'ada@example.com', undefined);
      await store.people.link('id:E2', 'bob@example.com', undefined);
      clock = NOW_MS + 10 * DAY_MS;
      await store.people.link('id:E2', 'bob@example.com', undefined);

      expect(purgeExpired(db, NOW_MS + 14 * DAY_MS)).toMatchObject({ people: 0, emails: 0 });
      expect(purgeExpired(db, NOW_MS + 14 * DAY_MS + 1)).toMatchObject({ people: 1, emails: 1 });
      expect(await store.people.get('id:E1')).toBeUndefined();
      expect(await store.people.ownerOf('ada@example.com')).toBeUndefined();
      expect(await store.people.ownerOf('bob@example.com')).toBe('id:E2');

      expect(purgeExpired(db, NOW_MS + 24 * DAY_MS + 1)).toMatchObject({ people: 1, emails: 1 });
      expect(await store.people.get('id:E2')).toBeUndefined();
      const rows = db.prepare('SELECT COUNT(*) AS n FROM people').get() as { n: number };
      expect(rows.n).toBe(0);
    });

    it('gives people and links from a file made before they expired an expiry from when it is opened', async () => {
      await store.people.link('id:E1', 'ada@example.com', undefined);
      db.exec('UPDATE people SET expires_at_ms = NULL; UPDATE email_owners SET expires_at_ms = NULL');
      clock = NOW_MS + 3 * DAY_MS;
      createSqliteStateStore(db, { now: () => clock, retentionDays: 30 });
      expect(purgeExpired(db, NOW_MS + 33 * DAY_MS)).toMatchObject({ people: 0, emails: 0 });
      expect(purgeExpired(db, NOW_MS + 33 * DAY_MS + 1)).toMatchObject({ people: 1, emails: 1 });
    });
  });

  describe('bounds shared with the DynamoDB adapter', () => {
    it(`keeps the newest ${MAX_STORED_STEPS} steps, in order`, async () => {
      await store.events.accept(canonicalEvent('evt-1'), { source: 'events', at: AT, sequence: 1 });
      const total = MAX_STORED_STEPS + 5;
      for (let i = 0; i < total; i++)
        await store.events.addStep('evt-1', stepRecord(`s${i}`, { attempt: i }));
      const steps = (await store.events.get('evt-1'))?.steps ?? [];
      expect(steps).toHaveLength(MAX_STORED_STEPS);
      expect(steps.map((s) => s.key)).toEqual(
        Array.from({ length: MAX_STORED_STEPS }, (_, i) => `s${i + 5}`),
      );
      expect(steps.at(-1)).toEqual(stepRecord(`s${total - 1}`, { attempt: total - 1 }));
    });

    it('cuts a step error, and the error and note of an event, that would bloat the row', async () => {
      await store.events.accept(canonicalEvent('evt-1'), { source: 'events', at: AT, sequence: 1 });
      await store.events.addStep('evt-1', stepRecord('create', { error: 'x'.repeat(100_000) }));
      await store.events.finish('evt-1', {
        status: 'failed',
        at: AT,
        error: 'e'.repeat(50_000),
        note: 'n'.repeat(50_000),
      });
      const record = await store.events.get('evt-1');
      expect(record?.steps[0]?.error).toHaveLength(MAX_STEP_ERROR_LENGTH);
      expect(record?.steps[0]?.error?.endsWith('…')).toBe(true);
      expect(record?.error).toHaveLength(MAX_EVENT_TEXT_LENGTH);
      expect(record?.note).toHaveLength(MAX_EVENT_TEXT_LENGTH);
    });
  });

  describe('list', () => {
    it('lists oldest update first within a status', async () => {
      for (const [id, at] of [
        ['evt-a', LATER],
        ['evt-b', AT],
        ['evt-c', AT],
      ] as const) {
        await store.events.accept(canonicalEvent(id), { source: 'events', at, sequence: 1 });
      }
      const first = await store.events.list({ status: 'queued', limit: 2 });
      expect(first.records.map((r) => r.eventId)).toEqual(['evt-b', 'evt-c']);
      const second = await store.events.list({ status: 'queued', limit: 2, cursor: first.cursor });
      expect(second).toEqual({ records: [await store.events.get('evt-a')] });
    });

    it('rejects a cursor it did not hand out, or one from a listing of another status', async () => {
      for (const id of ['evt-1', 'evt-2'])
        await store.events.accept(canonicalEvent(id), { source: 'events', at: AT, sequence: 1 });
      const { cursor } = await store.events.list({ status: 'queued', limit: 1 });
      expect(cursor).toBeDefined();
      await expect(store.events.list({ status: 'failed', limit: 1, cursor })).rejects.toThrow(
        'invalid cursor',
      );
      await expect(store.events.list({ limit: 2, cursor: 'not-a-cursor' })).rejects.toThrow('invalid cursor');
      await expect(store.events.list({ limit: 2, cursor: 'bnVsbA' })).rejects.toThrow('invalid cursor');
    });

    it('reads each page as an index range scan, never a sort of the whole table', () => {
      const plans = [
        'ORDER BY status, updated_at, event_id',
        "WHERE (status, updated_at, event_id) > ('queued', '', '') ORDER BY status, updated_at, event_id",
        "WHERE status = 'queued' ORDER BY updated_at, event_id",
        "WHERE status = 'queued' AND (updated_at, event_id) > ('', '') ORDER BY updated_at, event_id",
      ].map((clauses) =>
        db
          .prepare<[], { detail: string }>(
            `EXPLAIN QUERY PLAN SELECT * FROM event_records ${clauses} LIMIT 5`,
          )
          .all()
          .map((row) => row.detail)
          .join('; '),
      );
      for (const plan of plans) {
        expect(plan).toMatch(/USING INDEX event_records_by_status/);
        expect(plan).not.toMatch(/TEMP B-TREE/);
      }
    });
  });
});
