import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventRecord, EventStatus, StateStore, StepRecord } from '../../functions/core/engine/ports';
import type { CanonicalEvent } from '../../functions/core/events/canonical-event';
import { personKeyOf } from '../../functions/core/events/identity';
import { forgetPerson, targetDigest } from '../../functions/core/privacy/forget-person';

/** The clock a setup gives its store (`now`); the contract moves it to see expiries move. */
export type StateStoreClock = { ms: number; now: () => number };

/** When the adapter will delete a person or an email link, epoch ms, read from its own storage. */
export type ExpiryProbe = {
  person(personKey: string): Promise<number | undefined>;
  owner(email: string): Promise<number | undefined>;
};

/**
 * An empty store on `clock`, with the default retention (30 days), and a probe of its expiry stamps.
 * A setup that ignores the clock gets no expiry cases run against it.
 */
export type StateStoreSetup = (
  clock: StateStoreClock,
) => Promise<{ store: StateStore; cleanup?: () => Promise<void>; expiry?: ExpiryProbe }>;

/** The contract's clock starts here. */
export const CONTRACT_NOW_MS = Date.UTC(2026, 10, 2, 9, 0, 0);
const DAY_MS = 86_400_000;

const T0 = '2026-11-02T09:00:00.000Z';
const T1 = '2026-11-02T09:00:01.000Z';
const T2 = '2026-11-02T09:00:02.000Z';
const T3 = '2026-11-02T09:00:03.000Z';

export function canonicalEvent(id: string, overrides: Partial<CanonicalEvent> = {}): CanonicalEvent {
  return {
    id,
    type: 'hire',
    occurredAt: T0,
    employee: { id: 'E1', email: 'ada@example.com' },
    roles: ['tenant-member'],
    ...overrides,
  };
}

/** Every optional field filled, for round trips. */
export function fullCanonicalEvent(id: string): CanonicalEvent {
  return {
    id,
    type: 'role_change',
    occurredAt: '2026-11-29T09:00:00.000Z',
    employee: {
      id: 'E1001',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      department: 'ML Platform',
      title: 'Staff Engineer',
      location: 'London',
      employmentType: 'full_time',
      managerEmail: 'charles@example.com',
      attributes: { costCenter: 'CC-7', level: 6, contractor: false, badge: null, empty: '' },
    },
    roles: ['tenant-member', 'tenant-admin'],
    resourceRoles: [
      { resourceType: 'workspace', roles: ['workspace-editor'] },
      { resourceType: 'cluster', roles: [] },
    ],
  };
}

export function stepRecord(key: string, overrides: Partial<StepRecord> = {}): StepRecord {
  return {
    key,
    action: `do ${key}`,
    outcome: 'done',
    httpStatus: 200,
    httpAttempts: 1,
    attempt: 1,
    startedAt: T1,
    durationMs: 12,
    ...overrides,
  };
}

/**
 * The behaviour every StateStore adapter must share with the in-memory reference: run it against each
 * adapter with a setup that gives every test an empty store.
 */
export function describeStateStoreContract(name: string, setup: StateStoreSetup): void {
  describe(`${name}: StateStore contract`, () => {
    let store: StateStore;
    let cleanup: (() => Promise<void>) | undefined;
    let expiry: ExpiryProbe | undefined;
    let clock: StateStoreClock;

    beforeEach(async () => {
      clock = { ms: CONTRACT_NOW_MS, now: () => clock.ms };
      ({ store, cleanup, expiry } = await setup(clock));
    });
    afterEach(async () => {
      await cleanup?.();
    });

    const accepted = async (id: string, overrides: Partial<CanonicalEvent> = {}) =>
      (await store.events.accept(canonicalEvent(id, overrides), { source: 'events', at: T0, sequence: 1 }))
        .record;

    describe('EventStore.accept and get', () => {
      it('records a new event as queued, not yet enqueued, with no attempts and no steps', async () => {
        const event = canonicalEvent('evt-1');
        const result = await store.events.accept(event, { source: 'batch:b1', at: T0, sequence: 1 });
        const expected: EventRecord = {
          eventId: 'evt-1',
          employeeKey: 'id:E1',
          type: 'hire',
          occurredAt: T0,
          status: 'queued',
          attempts: 0,
          sequence: 1,
          event,
          source: 'batch:b1',
          enqueued: false,
          steps: [],
          receivedAt: T0,
          updatedAt: T0,
        };
        expect(result).toEqual({ created: true, record: expected });
        expect(await store.events.get('evt-1')).toEqual(expected);
      });

      it('returns the existing record untouched for an id seen before', async () => {
        await accepted('evt-1');
        await store.events.markEnqueued('evt-1', T1);
        await store.events.startAttempt(canonicalEvent('evt-1'), T2);
        const before = await store.events.get('evt-1');

        const again = await store.events.accept(
          canonicalEvent('evt-1', { type: 'offboard', occurredAt: T3 }),
          {
            source: 'redrive',
            at: T3,
            sequence: 1,
          },
        );

        expect(again).toEqual({ created: false, record: before });
        expect(await store.events.get('evt-1')).toEqual(before);
      });

      it('round-trips a canonical event with every optional field exactly', async () => {
        const event = fullCanonicalEvent('evt-full');
        const { record } = await store.events.accept(event, { source: 'events', at: T0, sequence: 1 });
        expect(record.event).toEqual(event);
        expect((await store.events.get('evt-full'))?.event).toEqual(event);
        expect((await store.events.get('evt-full'))?.type).toBe('role_change');
      });

      it('keys the person by the HR employee id, and by the hashed email when only a non-ASCII email names them', async () => {
        const email = 'zoë@example.com';
        await accepted('evt-1', { employee: { id: 'E2', email } });
        expect((await store.events.get('evt-1'))?.employeeKey).toBe('id:E2');
        await accepted('evt-2', { employee: { id: email, email } });
        expect((await store.events.get('evt-2'))?.employeeKey).toBe(personKeyOf({ id: email, email }));
        expect(personKeyOf({ id: email, email })).toMatch(/^sha256:/);
      });

      it('keeps what it stored apart from objects the caller holds', async () => {
        const event = canonicalEvent('evt-1');
        const { record } = await store.events.accept(event, { source: 'events', at: T0, sequence: 1 });
        event.roles?.push('mutated');
        event.employee.email = 'mutated@example.com';
        record.status = 'failed';
        record.steps.push(stepRecord('mutated'));
        const read = await store.events.get('evt-1');
        if (read) read.event.employee.name = 'mutated';

        expect(await store.events.get('evt-1')).toMatchObject({
          status: 'queued',
          steps: [],
          event: canonicalEvent('evt-1'),
        });
      });

      it('returns undefined for an unknown id', async () => {
        expect(await store.events.get('nope')).toBeUndefined();
      });
    });

    describe('EventStore transitions', () => {
      it('marks an event enqueued', async () => {
        await accepted('evt-1');
        await store.events.markEnqueued('evt-1', T1);
        expect(await store.events.get('evt-1')).toMatchObject({
          enqueued: true,
          updatedAt: T1,
          status: 'queued',
        });
      });

      it('creates the record when a delivery arrives for an event it has not seen', async () => {
        const event = fullCanonicalEvent('evt-q');
        const record = await store.events.startAttempt(event, T1);
        const expected: EventRecord = {
          eventId: 'evt-q',
          employeeKey: 'id:E1001',
          type: 'role_change',
          occurredAt: event.occurredAt,
          status: 'running',
          attempts: 1,
          event,
          source: 'queue',
          enqueued: true,
          steps: [],
          receivedAt: T1,
          updatedAt: T1,
        };
        expect(record).toEqual(expected);
        expect(await store.events.get('evt-q')).toEqual(expected);
      });

      it('starts an attempt: running, one more attempt, the rest as recorded', async () => {
        await accepted('evt-1');
        await store.events.markEnqueued('evt-1', T1);
        await store.events.addStep('evt-1', stepRecord('find'));

        const first = await store.events.startAttempt(
          canonicalEvent('evt-1', { roles: ['other'], type: 'offboard' }),
          T2,
        );
        expect(first).toEqual({
          ...(await store.events.get('evt-1')),
          status: 'running',
          attempts: 1,
          updatedAt: T2,
        });
        expect(first).toMatchObject({
          source: 'events',
          enqueued: true,
          receivedAt: T0,
          type: 'hire',
          event: canonicalEvent('evt-1'),
          steps: [stepRecord('find')],
        });

        const second = await store.events.startAttempt(canonicalEvent('evt-1'), T3);
        expect(second).toMatchObject({ status: 'running', attempts: 2, updatedAt: T3 });
        expect(await store.events.get('evt-1')).toEqual(second);
      });

      it('clears the error of the previous attempt when a new one starts', async () => {
        await accepted('evt-1');
        await store.events.startAttempt(canonicalEvent('evt-1'), T1);
        await store.events.requeue('evt-1', { at: T2, error: 'HTTP 503' });
        const record = await store.events.startAttempt(canonicalEvent('evt-1'), T3);
        expect(record.error).toBeUndefined();
        expect('error' in record).toBe(false);
        expect(await store.events.get('evt-1')).toEqual(record);
      });

      it.each(['succeeded', 'superseded'] as const)('leaves a %s event untouched', async (status) => {
        await accepted('evt-1');
        await store.events.startAttempt(canonicalEvent('evt-1'), T1);
        await store.events.finish('evt-1', { status, at: T2, note: 'why' });
        const before = await store.events.get('evt-1');

        const record = await store.events.startAttempt(canonicalEvent('evt-1'), T3);

        expect(record).toEqual(before);
        expect(record).toMatchObject({ status, attempts: 1, updatedAt: T2, note: 'why' });
        expect(await store.events.get('evt-1')).toEqual(before);
      });

      it('reopens a failed event, as only a redrive delivers it again', async () => {
        await accepted('evt-1');
        await store.events.startAttempt(canonicalEvent('evt-1'), T1);
        await store.events.finish('evt-1', { status: 'failed', at: T2, error: 'HTTP 422', note: 'bad role' });

        const record = await store.events.startAttempt(canonicalEvent('evt-1'), T3);

        expect(record).toMatchObject({ status: 'running', attempts: 2, updatedAt: T3, note: 'bad role' });
        expect('error' in record).toBe(false);
        expect(await store.events.get('evt-1')).toEqual(record);
      });

      it.each(['succeeded', 'superseded', 'failed'] as const)(
        'finishes as %s with the optional error and note',
        async (status) => {
          await accepted('evt-1');
          await store.events.startAttempt(canonicalEvent('evt-1'), T1);
          await store.events.finish('evt-1', { status, at: T2, error: 'the reason', note: 'a note' });
          expect(await store.events.get('evt-1')).toMatchObject({
            status,
            updatedAt: T2,
            error: 'the reason',
            note: 'a note',
            attempts: 1,
          });
        },
      );

      it('finishes without error or note when none is given', async () => {
        await accepted('evt-1');
        await store.events.startAttempt(canonicalEvent('evt-1'), T1);
        await store.events.finish('evt-1', { status: 'succeeded', at: T2 });
        const record = await store.events.get('evt-1');
        expect(record).toMatchObject({ status: 'succeeded', updatedAt: T2 });
        expect(record && ('error' in record || 'note' in record)).toBe(false);
      });

      it('requeues after a transient failure with the reason', async () => {
        await accepted('evt-1');
        await store.events.startAttempt(canonicalEvent('evt-1'), T1);
        await store.events.requeue('evt-1', { at: T2, error: 'HTTP 429' });
        expect(await store.events.get('evt-1')).toMatchObject({
          status: 'queued',
          updatedAt: T2,
          error: 'HTTP 429',
          attempts: 1,
        });
      });

      it('appends steps in order and round-trips every field', async () => {
        await accepted('evt-1');
        const {
          httpStatus: _status,
          httpAttempts: _attempts,
          ...bare
        } = stepRecord('find', { outcome: 'skipped' });
        const steps = [
          bare,
          stepRecord('create', { outcome: 'exists', httpStatus: 409, httpAttempts: 2, durationMs: 0 }),
          stepRecord('roles', {
            outcome: 'failed',
            httpStatus: 503,
            error: 'Service Unavailable',
            attempt: 2,
          }),
          stepRecord('roles', { attempt: 3, startedAt: T3, durationMs: 1234 }),
        ];
        for (const step of steps) await store.events.addStep('evt-1', step);
        const stored = (await store.events.get('evt-1'))?.steps;
        expect(stored).toEqual(steps);
        expect(Object.keys(stored?.[0] ?? {}).sort()).toEqual(Object.keys(bare).sort());
      });

      it.each([
        ['markEnqueued', (s: StateStore) => s.events.markEnqueued('nope', T1)],
        ['finish', (s: StateStore) => s.events.finish('nope', { status: 'succeeded', at: T1 })],
        ['requeue', (s: StateStore) => s.events.requeue('nope', { at: T1, error: 'x' })],
        ['addStep', (s: StateStore) => s.events.addStep('nope', stepRecord('find'))],
      ] as const)('rejects %s of an unknown event and creates nothing', async (_, change) => {
        await expect(change(store)).rejects.toThrow();
        expect(await store.events.get('nope')).toBeUndefined();
        expect((await store.events.list({ limit: 10 })).records).toEqual([]);
      });
    });

    describe('EventStore.list', () => {
      const statuses = ['queued', 'running', 'succeeded', 'superseded', 'failed', 'held'] as const;

      /** 23 events, in an order unrelated to their ids, spread over every status. */
      const seed = async () => {
        const ids: string[] = [];
        for (let i = 0; i < 23; i++) {
          const id = `evt-${String((i * 7) % 23).padStart(2, '0')}`;
          ids.push(id);
          await accepted(id);
          const status = statuses[i % statuses.length] ?? 'queued';
          if (status !== 'queued') await store.events.startAttempt(canonicalEvent(id), T1);
          if (status === 'held') {
            await store.events.hold(id, { at: T2, reason: 'held by the offboarding guard' });
          } else if (status !== 'queued' && status !== 'running') {
            await store.events.finish(id, { status, at: T2 });
          }
        }
        return ids;
      };

      const allPages = async (query: { status?: EventStatus; limit: number }) => {
        const pages: EventRecord[][] = [];
        let cursor: string | undefined;
        do {
          const page = await store.events.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
          pages.push(page.records);
          cursor = page.cursor;
          expect(pages.length).toBeLessThan(50);
        } while (cursor !== undefined);
        return pages;
      };

      it('returns an empty page without a cursor from an empty store', async () => {
        expect(await store.events.list({ limit: 10 })).toEqual({ records: [] });
        expect(await store.events.list({ status: 'failed', limit: 10 })).toEqual({ records: [] });
      });

      it('returns everything in one page, without a cursor, when it fits', async () => {
        const ids = await seed();
        const page = await store.events.list({ limit: 100 });
        expect(page.cursor).toBeUndefined();
        expect(page.records.map((r) => r.eventId).sort()).toEqual([...ids].sort());
      });

      it('pages through every record once, without duplicates or gaps', async () => {
        const ids = await seed();
        for (const limit of [1, 5, 22, 23]) {
          const pages = await allPages({ limit });
          for (const page of pages) expect(page.length).toBeLessThanOrEqual(limit);
          const listed = pages.flat().map((r) => r.eventId);
          expect(new Set(listed).size).toBe(listed.length);
          expect(listed.sort()).toEqual([...ids].sort());
        }
      });

      it('filters by status, paging within it', async () => {
        const ids = await seed();
        for (const status of statuses) {
          const pages = await allPages({ status, limit: 2 });
          const listed = pages.flat();
          expect(listed.every((r) => r.status === status)).toBe(true);
          expect(listed.map((r) => r.eventId).sort()).toEqual(
            ids.filter((_, i) => statuses[i % statuses.length] === status).sort(),
          );
        }
      });

      it('lists full records, steps and event included', async () => {
        await store.events.accept(fullCanonicalEvent('evt-1'), { source: 'events', at: T0, sequence: 1 });
        await store.events.addStep('evt-1', stepRecord('find'));
        const [record] = (await store.events.list({ status: 'queued', limit: 5 })).records;
        expect(record).toEqual(await store.events.get('evt-1'));
        expect(record?.steps).toEqual([stepRecord('find')]);
      });
    });

    describe('StepLedger', () => {
      const lease = (owner: string, nowMs: number) => ({ owner, nowMs, leaseMs: 1_000 });

      it('claims a free step', async () => {
        expect(await store.ledger.claim('evt-1', 'create', lease('a', 0))).toEqual({ state: 'claimed' });
      });

      it('holds a step for its owner while the lease lasts', async () => {
        await store.ledger.claim('evt-1', 'create', lease('a', 0));
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 500))).toEqual({
          state: 'held',
          untilMs: 1_000,
        });
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 999))).toEqual({
          state: 'held',
          untilMs: 1_000,
        });
      });

      it('lets the owner claim again, extending its lease', async () => {
        await store.ledger.claim('evt-1', 'create', lease('a', 0));
        expect(await store.ledger.claim('evt-1', 'create', lease('a', 800))).toEqual({ state: 'claimed' });
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 1_500))).toEqual({
          state: 'held',
          untilMs: 1_800,
        });
      });

      it('hands an expired lease to another owner, from the moment it ends', async () => {
        await store.ledger.claim('evt-1', 'create', lease('a', 0));
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 1_000))).toEqual({ state: 'claimed' });
        expect(await store.ledger.claim('evt-1', 'create', lease('a', 1_100))).toEqual({
          state: 'held',
          untilMs: 2_000,
        });
      });

      it('reports a completed step as done to everyone, for ever', async () => {
        await store.ledger.claim('evt-1', 'create', lease('a', 0));
        await store.ledger.complete('evt-1', 'create', 'a', T1);
        expect(await store.ledger.claim('evt-1', 'create', lease('a', 10))).toEqual({ state: 'done' });
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 10))).toEqual({ state: 'done' });
        expect(await store.ledger.claim('evt-1', 'create', lease('c', 10_000_000))).toEqual({
          state: 'done',
        });
      });

      it('completes a step that was never claimed', async () => {
        await store.ledger.complete('evt-1', 'create', 'a', T1);
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 0))).toEqual({ state: 'done' });
      });

      it('refuses to complete a step another owner holds', async () => {
        await store.ledger.claim('evt-1', 'create', lease('a', 0));
        await expect(store.ledger.complete('evt-1', 'create', 'b', T1)).rejects.toThrow();
        expect(await store.ledger.claim('evt-1', 'create', lease('c', 10))).toEqual({
          state: 'held',
          untilMs: 1_000,
        });
      });

      it('releases the caller’s own claim so another owner need not wait out the lease', async () => {
        await store.ledger.claim('evt-1', 'create', lease('a', 0));
        await store.ledger.release('evt-1', 'create', 'a');
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 10))).toEqual({ state: 'claimed' });
      });

      it('ignores a release by anyone but the owner', async () => {
        await store.ledger.claim('evt-1', 'create', lease('a', 0));
        await store.ledger.release('evt-1', 'create', 'b');
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 10))).toEqual({
          state: 'held',
          untilMs: 1_000,
        });
      });

      it('ignores a release of a done or unknown step', async () => {
        await store.ledger.claim('evt-1', 'create', lease('a', 0));
        await store.ledger.complete('evt-1', 'create', 'a', T1);
        await store.ledger.release('evt-1', 'create', 'a');
        await store.ledger.release('evt-1', 'unknown', 'a');
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 10))).toEqual({ state: 'done' });
      });

      it('keeps steps of one event, and the same step of other events, apart', async () => {
        await store.ledger.claim('evt-1', 'create', lease('a', 0));
        await store.ledger.complete('evt-1', 'create', 'a', T1);
        expect(await store.ledger.claim('evt-1', 'roles', lease('b', 0))).toEqual({ state: 'claimed' });
        expect(await store.ledger.claim('evt-2', 'create', lease('b', 0))).toEqual({ state: 'claimed' });
      });

      it('gives a step to exactly one of many owners claiming it at once', async () => {
        const owners = Array.from({ length: 16 }, (_, i) => `owner-${i}`);
        const results = await Promise.all(
          owners.map((owner) => store.ledger.claim('evt-1', 'create', lease(owner, 0))),
        );
        expect(results.filter((r) => r.state === 'claimed')).toHaveLength(1);
        expect(results.filter((r) => r.state === 'held')).toHaveLength(owners.length - 1);
        const winner = owners[results.findIndex((r) => r.state === 'claimed')] ?? '';
        await store.ledger.complete('evt-1', 'create', winner, T1);
        expect(await store.ledger.claim('evt-1', 'create', lease('late', 0))).toEqual({ state: 'done' });
      });
    });

    describe('EventStore effective dates: scheduled, release, cancel', () => {
      const scheduled = async (id: string, dueAt: string, sequence: number, employeeId = 'E1') =>
        (
          await store.events.accept(
            canonicalEvent(id, { employee: { id: employeeId, email: `${id}@example.com` } }),
            {
              source: 'events',
              at: T0,
              sequence,
              dueAt,
            },
          )
        ).record;

      it('records an event with a due time as scheduled, not enqueued, showing its time', async () => {
        const record = await scheduled('evt-s', T2, 1);
        expect(record).toMatchObject({ status: 'scheduled', dueAt: T2, enqueued: false });
        expect(await store.events.get('evt-s')).toMatchObject({ status: 'scheduled', dueAt: T2 });
      });

      it('answers only the events due, earliest due first then acceptance, up to the limit', async () => {
        await scheduled('evt-late', T2, 1);
        await scheduled('evt-b', T1, 3);
        await scheduled('evt-a', T1, 2);
        await scheduled('evt-c', T1, 4);
        const due = await store.events.dueEvents({ now: T1, limit: 10 });
        expect(due.map((r) => r.eventId)).toEqual(['evt-a', 'evt-b', 'evt-c']);
        const limited = await store.events.dueEvents({ now: T1, limit: 2 });
        expect(limited.map((r) => r.eventId)).toEqual(['evt-a', 'evt-b']);
        expect(await store.events.dueEvents({ now: T0, limit: 10 })).toEqual([]);
      });

      it('lists a person’s scheduled events only', async () => {
        await scheduled('evt-1', T2, 1, 'E1');
        await scheduled('evt-2', T1, 2, 'E1');
        await scheduled('evt-3', T1, 3, 'E2');
        await accepted('evt-4');
        expect((await store.events.scheduledOf('id:E1')).map((r) => r.eventId)).toEqual(['evt-2', 'evt-1']);
      });

      it('releases a scheduled event once: queued and enqueued, and no longer due', async () => {
        await scheduled('evt-s', T1, 1);
        expect(await store.events.release('evt-s', T2)).toBe(true);
        expect(await store.events.get('evt-s')).toMatchObject({
          status: 'queued',
          enqueued: true,
          dueAt: T1,
        });
        expect(await store.events.release('evt-s', T2)).toBe(false);
        expect(await store.events.dueEvents({ now: T2, limit: 10 })).toEqual([]);
        expect(await store.events.scheduledOf('id:E1')).toEqual([]);
      });

      it('cancels a scheduled event: terminal, never due, and a delivery of it makes no attempt', async () => {
        await scheduled('evt-s', T1, 1);
        const result = await store.events.cancel('evt-s', { at: T2, note: 'cancelled by an operator' });
        expect(result.cancelled).toBe(true);
        expect(result.record).toMatchObject({ status: 'cancelled', note: 'cancelled by an operator' });
        expect(await store.events.dueEvents({ now: T2, limit: 10 })).toEqual([]);
        expect(await store.events.release('evt-s', T2)).toBe(false);
        const delivered = await store.events.startAttempt(canonicalEvent('evt-s'), T2);
        expect(delivered).toMatchObject({ status: 'cancelled', attempts: 0 });
      });

      it('cancels a held event, but not one queued, running or finished, and says its status', async () => {
        await accepted('evt-h');
        await store.events.startAttempt(canonicalEvent('evt-h'), T1);
        await store.events.hold('evt-h', { at: T1, reason: 'held by the offboarding guard' });
        expect((await store.events.cancel('evt-h', { at: T2, note: 'cancelled' })).cancelled).toBe(true);

        await accepted('evt-q');
        expect(await store.events.cancel('evt-q', { at: T2, note: 'x' })).toMatchObject({
          cancelled: false,
          record: { status: 'queued' },
        });
        await accepted('evt-done');
        await store.events.startAttempt(canonicalEvent('evt-done'), T1);
        await store.events.finish('evt-done', { status: 'succeeded', at: T1 });
        expect(await store.events.cancel('evt-done', { at: T2, note: 'x' })).toMatchObject({
          cancelled: false,
          record: { status: 'succeeded' },
        });
        expect(await store.events.cancel('evt-none', { at: T2, note: 'x' })).toEqual({
          cancelled: false,
          record: undefined,
        });
      });

      it('takes a scheduled event whose delivery began out of the due events', async () => {
        await scheduled('evt-s', T1, 1);
        await store.events.startAttempt(canonicalEvent('evt-s'), T2);
        expect(await store.events.dueEvents({ now: T2, limit: 10 })).toEqual([]);
      });
    });

    describe('EventStore.markDeadLettered', () => {
      it('remembers which queue message was dead-lettered, across a reopening of the event', async () => {
        await accepted('evt-1');
        await store.events.startAttempt(canonicalEvent('evt-1'), T1);
        await store.events.finish('evt-1', { status: 'failed', at: T1, error: 'HTTP 422' });
        await store.events.markDeadLettered('evt-1', 'msg-7');
        expect((await store.events.get('evt-1'))?.deadLetteredBy).toBe('msg-7');
        // A redrive reopens the event; the marker still names the old message, not the redriven one.
        expect((await store.events.startAttempt(canonicalEvent('evt-1'), T2)).deadLetteredBy).toBe('msg-7');
      });

      it('refuses an unknown event', async () => {
        await expect(store.events.markDeadLettered('nope', 'msg-1')).rejects.toThrow(/no event nope/);
      });
    });

    describe('EventStore.reserveSequences', () => {
      it('hands out consecutive, strictly increasing ranges, never the same number twice', async () => {
        const first = await store.events.reserveSequences(3);
        const second = await store.events.reserveSequences(1);
        const concurrent = await Promise.all(
          Array.from({ length: 10 }, () => store.events.reserveSequences(2)),
        );
        expect(first).toBeGreaterThanOrEqual(1);
        expect(second).toBe(first + 3);
        const numbers = concurrent.flatMap((n) => [n, n + 1]);
        expect(new Set(numbers).size).toBe(20);
        expect(Math.min(...numbers)).toBe(second + 1);
      });

      it('stores the sequence an event was accepted with', async () => {
        await store.events.accept(canonicalEvent('evt-7'), { source: 'events', at: T0, sequence: 42 });
        expect((await store.events.get('evt-7'))?.sequence).toBe(42);
      });
    });

    describe('StepLedger: outcomes unknown', () => {
      const lease = (owner: string, nowMs: number, unknownBoundMs = 0) => ({
        owner,
        nowMs,
        leaseMs: 1_000,
        unknownBoundMs,
      });

      it('keeps a step marked unknown from another claim until the bound, counted from the claim', async () => {
        expect(await store.ledger.claim('evt-1', 'create', lease('a', 100, 5_000))).toEqual({
          state: 'claimed',
        });
        await store.ledger.markUnknown('evt-1', 'create', 'a', 300);
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 400, 5_000))).toEqual({
          state: 'unknown',
          sinceMs: 100,
          untilMs: 5_100,
        });
        expect(await store.ledger.claim('evt-1', 'create', lease('c', 5_100, 5_000))).toEqual({
          state: 'claimed',
        });
      });

      it('lets a step that is safe to repeat (bound 0) be claimed again at once', async () => {
        await store.ledger.claim('evt-1', 'roles:tenant', lease('a', 100));
        await store.ledger.markUnknown('evt-1', 'roles:tenant', 'a', 200);
        expect(await store.ledger.claim('evt-1', 'roles:tenant', lease('b', 200))).toEqual({
          state: 'claimed',
        });
      });

      it('treats a lapsed lease (its worker died) as an unknown outcome within the bound', async () => {
        await store.ledger.claim('evt-1', 'create', lease('a', 100, 5_000));
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 600, 5_000))).toEqual({
          state: 'held',
          untilMs: 1_100,
        });
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 2_000, 5_000))).toEqual({
          state: 'unknown',
          sinceMs: 100,
          untilMs: 5_100,
        });
      });

      it('ignores markUnknown by anyone but the owner, and on a done step', async () => {
        await store.ledger.claim('evt-1', 'create', lease('a', 100, 5_000));
        await store.ledger.markUnknown('evt-1', 'create', 'intruder', 200);
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 300, 5_000))).toEqual({
          state: 'held',
          untilMs: 1_100,
        });
        await store.ledger.complete('evt-1', 'create', 'a', T1);
        await store.ledger.markUnknown('evt-1', 'create', 'a', 400);
        expect(await store.ledger.claim('evt-1', 'create', lease('b', 500, 5_000))).toEqual({
          state: 'done',
        });
      });
    });

    describe('PersonDirectory and recordSuccess', () => {
      const mark = (at: string, sequence: number, eventId: string) => ({ at, sequence, eventId });
      const succeed = async (
        eventId: string,
        personKey: string,
        m: ReturnType<typeof mark>,
        current: string,
      ) => {
        await store.events.accept(canonicalEvent(eventId), {
          source: 'events',
          at: T0,
          sequence: m.sequence,
        });
        await store.events.startAttempt(canonicalEvent(eventId), T0);
        return store.recordSuccess(eventId, { at: T1 }, { personKey, mark: m, status: 'active', current });
      };

      it('knows nobody and no owner at first', async () => {
        expect(await store.people.get('id:E1')).toBeUndefined();
        expect(await store.people.ownerOf('ada@example.com')).toBeUndefined();
        expect(await store.people.legacyMark('ada@example.com')).toBeUndefined();
      });

      it('links an unowned email to a person and lists it among their accounts once', async () => {
        expect(await store.people.link('id:E1', 'ada@example.com', undefined)).toEqual({ linked: true });
        expect(await store.people.link('id:E1', 'ada@example.com', undefined)).toEqual({ linked: true });
        expect(await store.people.link('id:E1', 'ada.l@example.com', undefined)).toEqual({ linked: true });
        expect(await store.people.ownerOf('ada@example.com')).toBe('id:E1');
        expect(await store.people.get('id:E1')).toEqual({
          personKey: 'id:E1',
          accounts: ['ada@example.com', 'ada.l@example.com'],
        });
      });

      it('refuses to link an email owned by someone else unless that owner is the one expected', async () => {
        await store.people.link('id:E1', 'ada@example.com', undefined);
        expect(await store.people.link('id:E2', 'ada@example.com', undefined)).toEqual({
          linked: false,
          owner: 'id:E1',
        });
        expect(await store.people.link('id:E2', 'ada@example.com', 'id:E9')).toEqual({
          linked: false,
          owner: 'id:E1',
        });
        expect(await store.people.ownerOf('ada@example.com')).toBe('id:E1');
        expect(await store.people.link('id:E2', 'ada@example.com', 'id:E1')).toEqual({ linked: true });
        expect(await store.people.ownerOf('ada@example.com')).toBe('id:E2');
      });

      it('records success and the mark together, moving the current account last', async () => {
        await store.people.link('id:E1', 'old@example.com', undefined);
        await store.people.link('id:E1', 'new@example.com', undefined);
        expect(await succeed('e1', 'id:E1', mark(T1, 5, 'e1'), 'old@example.com')).toEqual({ applied: true });
        expect((await store.events.get('e1'))?.status).toBe('succeeded');
        expect(await store.people.get('id:E1')).toEqual({
          personKey: 'id:E1',
          mark: mark(T1, 5, 'e1'),
          status: 'active',
          accounts: ['new@example.com', 'old@example.com'],
        });
      });

      it('orders by time, then by acceptance sequence; a replay of the marking event passes', async () => {
        await succeed('e2', 'id:E1', mark(T1, 5, 'e2'), 'a@example.com');
        expect(await succeed('e1', 'id:E1', mark(T1, 4, 'e1'), 'a@example.com')).toEqual({
          applied: false,
          newest: mark(T1, 5, 'e2'),
        });
        expect((await store.events.get('e1'))?.status).toBe('running');
        expect(
          await store.recordSuccess(
            'e2',
            { at: T2 },
            { personKey: 'id:E1', mark: mark(T1, 5, 'e2'), status: 'active', current: 'a@example.com' },
          ),
        ).toEqual({ applied: true });
        expect(await succeed('e3', 'id:E1', mark(T1, 6, 'e3'), 'a@example.com')).toEqual({ applied: true });
        expect(await succeed('e0', 'id:E1', mark(T0, 99, 'e0'), 'a@example.com')).toEqual({
          applied: false,
          newest: mark(T1, 6, 'e3'),
        });
        expect((await store.people.get('id:E1'))?.mark).toEqual(mark(T1, 6, 'e3'));
      });

      it('keeps people apart', async () => {
        await succeed('e2', 'id:E1', mark(T2, 2, 'e2'), 'a@example.com');
        expect(await succeed('e1', 'id:E2', mark(T1, 1, 'e1'), 'b@example.com')).toEqual({ applied: true });
        expect((await store.people.get('id:E2'))?.mark).toEqual(mark(T1, 1, 'e1'));
      });

      it('records an offboard as the person’s status', async () => {
        await store.events.accept(canonicalEvent('e1'), { source: 'events', at: T0, sequence: 1 });
        await store.recordSuccess(
          'e1',
          { at: T1, note: 'done' },
          {
            personKey: 'id:E1',
            mark: mark(T1, 1, 'e1'),
            status: 'offboarded',
            current: 'ada@example.com',
          },
        );
        expect((await store.people.get('id:E1'))?.status).toBe('offboarded');
        expect(await store.events.get('e1')).toMatchObject({ status: 'succeeded', note: 'done' });
      });
    });

    describe('expiry of people and email links', () => {
      const RETENTION_MS = 30 * DAY_MS;
      const probe = () => {
        if (!expiry) throw new Error('this setup gives no expiry probe');
        return expiry;
      };
      const succeed = async (eventId: string, personKey: string, current: string, sequence: number) => {
        await store.events.accept(canonicalEvent(eventId), { source: 'events', at: T0, sequence });
        await store.events.startAttempt(canonicalEvent(eventId), T0);
        return store.recordSuccess(
          eventId,
          { at: T1 },
          { personKey, mark: { at: T1, sequence, eventId }, status: 'active', current },
        );
      };

      it('stamps a person and their email link with the retention period when linked', async () => {
        await store.people.link('id:E1', 'ada@example.com', undefined);
        expect(await probe().person('id:E1')).toBe(CONTRACT_NOW_MS + RETENTION_MS);
        expect(await probe().owner('ada@example.com')).toBe(CONTRACT_NOW_MS + RETENTION_MS);
      });

      it('moves the expiry on with every write of the person, for every link they still hold', async () => {
        await store.people.link('id:E1', 'old@example.com', undefined);
        await store.people.link('id:E1', 'new@example.com', undefined);
        clock.ms += 5 * DAY_MS;
        // A link of an account already theirs: the person's expiry moves too, not only the link's.
        await store.people.link('id:E1', 'new@example.com', undefined);
        expect(await probe().person('id:E1')).toBe(clock.ms + RETENTION_MS);
        expect(await probe().owner('new@example.com')).toBe(clock.ms + RETENTION_MS);
        expect(await probe().owner('old@example.com')).toBe(CONTRACT_NOW_MS + RETENTION_MS);

        clock.ms += 5 * DAY_MS;
        expect(await succeed('e1', 'id:E1', 'new@example.com', 1)).toEqual({ applied: true });
        expect(await probe().person('id:E1')).toBe(clock.ms + RETENTION_MS);
        // The old account's link lives as long as its person, so an offboard still finds it.
        expect(await probe().owner('old@example.com')).toBe(clock.ms + RETENTION_MS);
        expect(await probe().owner('new@example.com')).toBe(clock.ms + RETENTION_MS);
      });

      it('leaves the expiry of a link that has passed to someone else to its new holder', async () => {
        await store.people.link('id:E1', 'shared@example.com', undefined);
        clock.ms += DAY_MS;
        await store.people.link('id:E2', 'shared@example.com', 'id:E1');
        const taken = clock.ms + RETENTION_MS;
        clock.ms += DAY_MS;
        await succeed('e1', 'id:E1', 'ada@example.com', 1);
        expect(await probe().owner('shared@example.com')).toBe(taken);
        expect(await probe().person('id:E1')).toBe(clock.ms + RETENTION_MS);
      });
    });

    describe('forget', () => {
      const finished = async (eventId: string, employee: CanonicalEvent['employee'], sequence = 1) => {
        const event = canonicalEvent(eventId, { employee });
        await store.events.accept(event, { source: 'events', at: T0, sequence });
        await store.events.startAttempt(event, T0);
        await store.events.finish(eventId, { status: 'failed', at: T1, error: 'HTTP 422' });
      };
      const stepDone = async (eventId: string, stepKey: string) => {
        await store.ledger.claim(eventId, stepKey, { owner: 'w', nowMs: 1_000, leaseMs: 60_000 });
        await store.ledger.complete(eventId, stepKey, 'w', T1);
      };
      const ada = { id: 'E1', email: 'ada@example.com', name: 'Ada Lovelace' };

      it('erases a person named by employee id: events, steps, person, links, their email-only self', async () => {
        await store.people.link('id:E1', 'ada@example.com', undefined);
        await store.people.link('id:E1', 'ada.l@example.com', undefined);
        await finished('evt-1', ada);
        await finished('evt-2', { ...ada, email: 'ada.l@example.com' });
        // The same human as a CSV row without an employee id: keyed by the email.
        await finished('evt-3', { id: 'ada@example.com', email: 'ada@example.com' });
        await stepDone('evt-1', 'create');
        await stepDone('evt-1', 'roles:tenant');
        await stepDone('evt-2', 'create');
        await store.people.link('id:E2', 'bob@example.com', undefined);
        await finished('evt-bob', { id: 'E2', email: 'bob@example.com' });
        await stepDone('evt-bob', 'create');

        const report = await forgetPerson({ employeeId: 'E1' }, 'token (alice)', {
          store,
          now: () => Date.parse(T3),
        });

        expect(report).toMatchObject({
          forgotten: {
            person: targetDigest({ employeeId: 'E1' }),
            events: 3,
            steps: 3,
            people: 1,
            emails: 2,
            queued: 0,
            deadLetters: 0,
            at: T3,
            by: 'token (alice)',
          },
        });
        for (const id of ['evt-1', 'evt-2', 'evt-3']) expect(await store.events.get(id)).toBeUndefined();
        expect(await store.people.get('id:E1')).toBeUndefined();
        expect(await store.people.ownerOf('ada@example.com')).toBeUndefined();
        expect(await store.people.ownerOf('ada.l@example.com')).toBeUndefined();
        // The ledger forgot the steps: a claim is a fresh one, not `done`.
        expect(await store.ledger.claim('evt-1', 'create', { owner: 'x', nowMs: 2_000, leaseMs: 1 })).toEqual(
          {
            state: 'claimed',
          },
        );
        // Nobody else is touched.
        expect(await store.events.get('evt-bob')).toBeDefined();
        expect(await store.people.ownerOf('bob@example.com')).toBe('id:E2');
        expect(
          await store.ledger.claim('evt-bob', 'create', { owner: 'x', nowMs: 2_000, leaseMs: 1 }),
        ).toEqual({ state: 'done' });
      });

      it('keeps one audit line per forget, with a digest and counts and no personal data', async () => {
        await store.people.link('id:E1', 'ada@example.com', undefined);
        await finished('evt-1', ada);
        await forgetPerson({ employeeId: 'E1' }, 'gateway', { store, now: () => Date.parse(T2) });
        // Safe to repeat: nothing is left, and the repeat is recorded too.
        await forgetPerson({ email: 'Ada@Example.com' }, 'gateway', { store, now: () => Date.parse(T3) });

        const audits = await store.forgetAudits();
        expect(audits).toEqual([
          {
            person: targetDigest({ employeeId: 'E1' }),
            at: T2,
            by: 'gateway',
            events: 1,
            steps: 0,
            people: 1,
            emails: 1,
            queued: 0,
            deadLetters: 0,
          },
          {
            person: targetDigest({ email: 'ada@example.com' }),
            at: T3,
            by: 'gateway',
            events: 0,
            steps: 0,
            people: 0,
            emails: 0,
            queued: 0,
            deadLetters: 0,
          },
        ]);
        expect(JSON.stringify(audits)).not.toMatch(/ada|example|E1|Lovelace/i);
      });

      it('erases by email: the person holding it and every event carrying it, whoever it was for', async () => {
        await store.people.link('id:E1', 'ada@example.com', undefined);
        await store.people.link('id:E1', 'ada.new@example.com', undefined);
        await finished('evt-1', ada);
        await finished('evt-2', { ...ada, email: 'ada.new@example.com' });
        // Refused for E3, who named Ada's address: it carries her email, so it goes too.
        await finished('evt-mistake', { id: 'E3', email: 'ada@example.com' });
        await finished('evt-e3', { id: 'E3', email: 'eve@example.com' });

        const report = await forgetPerson({ email: 'ADA@example.com ' }, 'token', { store });

        expect(report).toMatchObject({ forgotten: { events: 3, people: 1, emails: 2 } });
        for (const id of ['evt-1', 'evt-2', 'evt-mistake'])
          expect(await store.events.get(id)).toBeUndefined();
        expect(await store.events.get('evt-e3')).toBeDefined();
        expect(await store.people.get('id:E1')).toBeUndefined();
        expect(await store.people.ownerOf('ada.new@example.com')).toBeUndefined();
      });

      it('leaves an account that has passed to someone else linked to them', async () => {
        await store.people.link('id:E1', 'ada@example.com', undefined);
        await store.people.link('id:E2', 'ada@example.com', 'id:E1');
        await finished('evt-e2', { id: 'E2', email: 'ada@example.com' });

        await forgetPerson({ employeeId: 'E1' }, 'token', { store });

        expect(await store.people.get('id:E1')).toBeUndefined();
        expect(await store.people.ownerOf('ada@example.com')).toBe('id:E2');
        expect(await store.people.get('id:E2')).toEqual({
          personKey: 'id:E2',
          accounts: ['ada@example.com'],
        });
        expect(await store.events.get('evt-e2')).toBeDefined();
      });

      it('erases nothing while an event of the person is queued or running: its delivery would undo it', async () => {
        await store.people.link('id:E1', 'ada@example.com', undefined);
        await finished('evt-done', ada);
        await store.events.accept(canonicalEvent('evt-queued', { employee: ada }), {
          source: 'events',
          at: T0,
          sequence: 2,
        });
        await store.events.startAttempt(canonicalEvent('evt-running', { employee: ada }), T0);

        const report = await forgetPerson({ employeeId: 'E1' }, 'token', { store });

        expect(report).toEqual({ busy: expect.arrayContaining(['evt-queued', 'evt-running']) });
        expect('busy' in report && report.busy).toHaveLength(2);
        expect(await store.events.get('evt-done')).toBeDefined();
        expect(await store.people.ownerOf('ada@example.com')).toBe('id:E1');
        expect(await store.forgetAudits()).toEqual([]);
      });
    });
  });
}
