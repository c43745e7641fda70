import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventRecord, EventStatus, StateStore, StepRecord } from '../../functions/core/engine/ports';
import type { CanonicalEvent } from '../../functions/core/events/canonical-event';
import { employeeKeyOf } from '../../functions/core/events/employee-key';

export type StateStoreSetup = () => Promise<{ store: StateStore; cleanup?: () => Promise<void> }>;

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

    beforeEach(async () => {
      ({ store, cleanup } = await setup());
    });
    afterEach(async () => {
      await cleanup?.();
    });

    const accepted = async (id: string, overrides: Partial<CanonicalEvent> = {}) =>
      (await store.events.accept(canonicalEvent(id, overrides), { source: 'events', at: T0 })).record;

    describe('EventStore.accept and get', () => {
      it('records a new event as queued, not yet enqueued, with no attempts and no steps', async () => {
        const event = canonicalEvent('evt-1');
        const result = await store.events.accept(event, { source: 'batch:b1', at: T0 });
        const expected: EventRecord = {
          eventId: 'evt-1',
          employeeKey: 'ada@example.com',
          type: 'hire',
          occurredAt: T0,
          status: 'queued',
          attempts: 0,
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
          },
        );

        expect(again).toEqual({ created: false, record: before });
        expect(await store.events.get('evt-1')).toEqual(before);
      });

      it('round-trips a canonical event with every optional field exactly', async () => {
        const event = fullCanonicalEvent('evt-full');
        const { record } = await store.events.accept(event, { source: 'events', at: T0 });
        expect(record.event).toEqual(event);
        expect((await store.events.get('evt-full'))?.event).toEqual(event);
        expect((await store.events.get('evt-full'))?.type).toBe('role_change');
      });

      it('keys the employee by the hashed email when the email is not plain ASCII', async () => {
        const email = 'zoë@example.com';
        await accepted('evt-1', { employee: { id: 'E2', email } });
        expect((await store.events.get('evt-1'))?.employeeKey).toBe(employeeKeyOf(email));
        expect(employeeKeyOf(email)).toMatch(/^sha256:/);
      });

      it('keeps what it stored apart from objects the caller holds', async () => {
        const event = canonicalEvent('evt-1');
        const { record } = await store.events.accept(event, { source: 'events', at: T0 });
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
          employeeKey: 'ada@example.com',
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
      const statuses: EventStatus[] = ['queued', 'running', 'succeeded', 'superseded', 'failed'];

      /** 23 events, in an order unrelated to their ids, spread over every status. */
      const seed = async () => {
        const ids: string[] = [];
        for (let i = 0; i < 23; i++) {
          const id = `evt-${String((i * 7) % 23).padStart(2, '0')}`;
          ids.push(id);
          await accepted(id);
          const status = statuses[i % statuses.length] ?? 'queued';
          if (status !== 'queued') await store.events.startAttempt(canonicalEvent(id), T1);
          if (status !== 'queued' && status !== 'running') {
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
        await store.events.accept(fullCanonicalEvent('evt-1'), { source: 'events', at: T0 });
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

    describe('EmployeeState', () => {
      const mark = (occurredAt: string, eventId: string) => ({ occurredAt, eventId });

      it('has no mark for an employee it has not seen', async () => {
        expect(await store.employees.get('ada@example.com')).toBeUndefined();
      });

      it('sets the first mark and moves it forward', async () => {
        expect(await store.employees.advance('ada@example.com', mark(T1, 'e1'))).toEqual({ applied: true });
        expect(await store.employees.get('ada@example.com')).toEqual(mark(T1, 'e1'));
        expect(await store.employees.advance('ada@example.com', mark(T2, 'e2'))).toEqual({ applied: true });
        expect(await store.employees.get('ada@example.com')).toEqual(mark(T2, 'e2'));
      });

      it('lets an event with the same time pass', async () => {
        await store.employees.advance('ada@example.com', mark(T1, 'e1'));
        expect(await store.employees.advance('ada@example.com', mark(T1, 'e1'))).toEqual({ applied: true });
        expect(await store.employees.advance('ada@example.com', mark(T1, 'e2'))).toEqual({ applied: true });
        expect(await store.employees.get('ada@example.com')).toEqual(mark(T1, 'e2'));
      });

      it('refuses an older event and names the newest', async () => {
        await store.employees.advance('ada@example.com', mark(T2, 'e2'));
        expect(await store.employees.advance('ada@example.com', mark(T1, 'e1'))).toEqual({
          applied: false,
          newest: mark(T2, 'e2'),
        });
        expect(await store.employees.get('ada@example.com')).toEqual(mark(T2, 'e2'));
      });

      it('keeps employees apart', async () => {
        await store.employees.advance('ada@example.com', mark(T2, 'e2'));
        expect(await store.employees.advance('bob@example.com', mark(T1, 'e1'))).toEqual({ applied: true });
        expect(await store.employees.get('bob@example.com')).toEqual(mark(T1, 'e1'));
      });

      it('keeps the newest mark when many advance at once', async () => {
        const marks = Array.from({ length: 20 }, (_, i) =>
          mark(new Date(Date.UTC(2026, 10, 2, 9, 0, (i * 7) % 20)).toISOString(), `e${(i * 7) % 20}`),
        );
        const results = await Promise.all(marks.map((m) => store.employees.advance('ada@example.com', m)));
        const newest = mark(new Date(Date.UTC(2026, 10, 2, 9, 0, 19)).toISOString(), 'e19');
        expect(await store.employees.get('ada@example.com')).toEqual(newest);
        for (const [i, result] of results.entries()) {
          if (!result.applied) expect(result.newest.occurredAt > (marks[i]?.occurredAt ?? '')).toBe(true);
        }
        expect(await store.employees.advance('ada@example.com', mark(T0, 'old'))).toEqual({
          applied: false,
          newest,
        });
      });
    });
  });
}
