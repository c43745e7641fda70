import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createDynamoDbStateStore,
  emailOwnerItemKey,
  eventItemKey,
  personItemKey,
  StateStoreError,
  stepItemKey,
} from '../../functions/core/adapters/dynamodb';
import { MAX_STEP_ERROR_LENGTH, MAX_STORED_STEPS } from '../../functions/core/engine/event-record';
import type { StateStore } from '../../functions/core/engine/ports';
import { forgetPerson } from '../../functions/core/privacy/forget-person';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import {
  canonicalEvent,
  describeStateStoreContract,
  type StateStoreSetup,
  stepRecord,
} from '../support/state-store-contract';

const NOW_MS = Date.UTC(2026, 10, 2, 9, 0, 0);
const DAY_S = 86_400;
const AT = '2026-11-02T09:00:00.000Z';

let dynamo: LocalDynamoDb;
const started = startDynalite().then((d) => {
  dynamo = d;
  return d;
});
afterAll(async () => {
  await (await started).close();
});

/** A fresh table per test, so no test sees another's items. */
const freshStore =
  (clientOptions?: Parameters<LocalDynamoDb['createClient']>[0]): StateStoreSetup =>
  async (clock) => {
    const local = await started;
    const tableName = await local.createTable();
    const client = clientOptions ? local.createClient(clientOptions) : local.client;
    // The TTL attribute is in epoch seconds.
    const ttlOf = async (key: { pk: string; sk: string }) => {
      const item = (
        await local.client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))
      ).Item;
      return item?.expiresAt === undefined ? undefined : Number(item.expiresAt) * 1000;
    };
    return {
      store: createDynamoDbStateStore({ client, tableName, now: clock.now }),
      expiry: {
        person: (personKey) => ttlOf(personItemKey(personKey)),
        owner: (email) => ttlOf(emailOwnerItemKey(email)),
      },
      cleanup: () => local.deleteTable(tableName),
    };
  };

describeStateStoreContract('DynamoDB (dynalite)', freshStore());
describeStateStoreContract(
  'DynamoDB with the failed item returned on a lost condition',
  freshStore({ returnOldItemOnConditionFailure: true }),
);

describe('DynamoDB state store specifics', () => {
  let tableName: string;
  let store: StateStore;
  const rawItem = async (key: { pk: string; sk: string }) =>
    (await dynamo.client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;

  beforeAll(async () => {
    await started;
  });
  beforeEach(async () => {
    tableName = await dynamo.createTable();
    store = createDynamoDbStateStore({ client: dynamo.client, tableName, now: () => NOW_MS });
  });

  describe('item layout and TTL', () => {
    it('keeps an event under EVENT#<id>/EVENT without a TTL until it reaches a terminal status', async () => {
      await store.events.accept(canonicalEvent('evt-1'), { source: 'events', at: AT, sequence: 1 });
      await store.events.startAttempt(canonicalEvent('evt-1'), AT);
      expect(await rawItem({ pk: 'EVENT#evt-1', sk: 'EVENT' })).toMatchObject({ status: 'running' });
      expect((await rawItem(eventItemKey('evt-1')))?.expiresAt).toBeUndefined();

      await store.events.finish('evt-1', { status: 'succeeded', at: AT });
      expect((await rawItem(eventItemKey('evt-1')))?.expiresAt).toBe(NOW_MS / 1000 + 30 * DAY_S);
    });

    it('sets the TTL from retentionDays on every terminal status', async () => {
      store = createDynamoDbStateStore({
        client: dynamo.client,
        tableName,
        now: () => NOW_MS,
        retentionDays: 7,
      });
      for (const status of ['succeeded', 'superseded', 'failed'] as const) {
        await store.events.startAttempt(canonicalEvent(`evt-${status}`), AT);
        await store.events.finish(`evt-${status}`, { status, at: AT });
        expect((await rawItem(eventItemKey(`evt-${status}`)))?.expiresAt).toBe(NOW_MS / 1000 + 7 * DAY_S);
      }
    });

    it('drops the TTL when a failed event is reopened or requeued', async () => {
      await store.events.startAttempt(canonicalEvent('evt-1'), AT);
      await store.events.finish('evt-1', { status: 'failed', at: AT, error: 'HTTP 422' });
      await store.events.startAttempt(canonicalEvent('evt-1'), AT);
      expect((await rawItem(eventItemKey('evt-1')))?.expiresAt).toBeUndefined();

      await store.events.finish('evt-1', { status: 'failed', at: AT, error: 'HTTP 422' });
      await store.events.requeue('evt-1', { at: AT, error: 'HTTP 503' });
      expect((await rawItem(eventItemKey('evt-1')))?.expiresAt).toBeUndefined();
    });

    it('keeps ledger entries under EVENT#<id>/STEP#<key> with a TTL, claimed and done', async () => {
      await store.ledger.claim('evt-1', 'create', { owner: 'a', nowMs: NOW_MS, leaseMs: 1_000 });
      expect(await rawItem({ pk: 'EVENT#evt-1', sk: 'STEP#create' })).toMatchObject({
        state: 'claimed',
        owner: 'a',
        leaseUntilMs: NOW_MS + 1_000,
        expiresAt: NOW_MS / 1000 + 30 * DAY_S,
      });
      await store.ledger.complete('evt-1', 'create', 'a', AT);
      expect(await rawItem(stepItemKey('evt-1', 'create'))).toMatchObject({
        state: 'done',
        doneAt: AT,
        expiresAt: NOW_MS / 1000 + 30 * DAY_S,
      });
    });

    it('keeps people under PERSON#<key>/PERSON and owners under EMAIL#<email>/OWNER, with a TTL', async () => {
      await store.events.accept(canonicalEvent('evt-1'), { source: 'events', at: AT, sequence: 3 });
      await store.people.link('id:E1', 'ada@example.com', undefined);
      const mark = { at: AT, sequence: 3, eventId: 'evt-1' };
      await store.recordSuccess(
        'evt-1',
        { at: AT },
        { personKey: 'id:E1', mark, status: 'active', current: 'ada@example.com' },
      );
      expect(await rawItem(personItemKey('id:E1'))).toEqual({
        ...personItemKey('id:E1'),
        markAt: AT,
        markSequence: 3,
        markEventId: 'evt-1',
        status: 'active',
        accounts: ['ada@example.com'],
        // The retention period after their last event (privacy/retention.ts).
        expiresAt: NOW_MS / 1000 + 30 * DAY_S,
      });
      expect(await rawItem(emailOwnerItemKey('ada@example.com'))).toEqual({
        ...emailOwnerItemKey('ada@example.com'),
        personKey: 'id:E1',
        expiresAt: NOW_MS / 1000 + 30 * DAY_S,
      });
    });

    it('reads a mark written per email by the first release as a legacy mark', async () => {
      await dynamo.client.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: 'EMPLOYEE#ada@example.com', sk: 'HWM', occurredAt: AT, eventId: 'evt-old' },
        }),
      );
      expect(await store.people.legacyMark('ada@example.com')).toEqual({
        at: AT,
        sequence: 0,
        eventId: 'evt-old',
      });
      expect(await store.people.legacyMark('bob@example.com')).toBeUndefined();
    });

    it('forgets the legacy mark of a forgotten person’s address, and keeps the audit under AUDIT#FORGET', async () => {
      await dynamo.client.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: 'EMPLOYEE#ada@example.com', sk: 'HWM', occurredAt: AT, eventId: 'evt-old' },
        }),
      );
      await store.people.link('id:E1', 'ada@example.com', undefined);

      await forgetPerson({ employeeId: 'E1' }, 'gateway', { store, now: () => NOW_MS });

      expect(await store.people.legacyMark('ada@example.com')).toBeUndefined();
      expect(await rawItem(personItemKey('id:E1'))).toBeUndefined();
      expect(await rawItem(emailOwnerItemKey('ada@example.com'))).toBeUndefined();
      const audits = await store.forgetAudits();
      expect(audits).toEqual([expect.objectContaining({ at: AT, by: 'gateway', people: 1, emails: 1 })]);
    });

    it('lets a ledger claim from before claimedAtMs existed be taken over whatever the bound', async () => {
      await dynamo.client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...stepItemKey('evt-old', 'create'), state: 'claimed', owner: 'dead', leaseUntilMs: 0 },
        }),
      );
      expect(
        await store.ledger.claim('evt-old', 'create', {
          owner: 'w',
          nowMs: 1,
          leaseMs: 10,
          unknownBoundMs: 60_000,
        }),
      ).toEqual({ state: 'claimed' });
    });
  });

  describe('races between two stores on one table', () => {
    let other: StateStore;
    beforeEach(() => {
      // Its own client and connection pool: as two Lambda instances would be.
      other = createDynamoDbStateStore({ client: dynamo.createClient(), tableName, now: () => NOW_MS });
    });

    it('gives each step to exactly one of them', async () => {
      const steps = Array.from({ length: 10 }, (_, i) => `step-${i}`);
      const results = await Promise.all(
        steps.flatMap((step) => [
          store.ledger.claim('evt-1', step, { owner: 'a', nowMs: NOW_MS, leaseMs: 30_000 }),
          other.ledger.claim('evt-1', step, { owner: 'b', nowMs: NOW_MS, leaseMs: 30_000 }),
        ]),
      );
      for (let i = 0; i < steps.length; i++) {
        const pair = [results[2 * i]?.state, results[2 * i + 1]?.state].sort();
        expect(pair).toEqual(['claimed', 'held']);
      }
    });

    it('creates an event once when both accept it', async () => {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? store : other).events.accept(canonicalEvent('evt-1'), {
            source: `s${i}`,
            at: AT,
            sequence: i,
          }),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const winner = results.find((r) => r.created)?.record;
      for (const r of results) expect(r.record).toEqual(winner);
    });

    it('counts every attempt when deliveries of a new event start at once', async () => {
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? store : other).events.startAttempt(canonicalEvent('evt-1'), AT),
        ),
      );
      expect(await store.events.get('evt-1')).toMatchObject({
        status: 'running',
        attempts: 6,
        source: 'queue',
      });
    });

    it('keeps the newest mark', async () => {
      const marks = Array.from({ length: 12 }, (_, i) => ({
        at: new Date(NOW_MS + ((i * 5) % 12) * 1_000).toISOString(),
        sequence: (i * 5) % 12,
        eventId: `e${(i * 5) % 12}`,
      }));
      for (const m of marks)
        await store.events.accept(canonicalEvent(m.eventId), {
          source: 'events',
          at: AT,
          sequence: m.sequence,
        });
      const results = await Promise.all(
        marks.map((mark, i) =>
          (i % 2 ? store : other)
            .recordSuccess(
              mark.eventId,
              { at: AT },
              {
                personKey: 'id:E1',
                mark,
                status: 'active',
                current: 'ada@example.com',
              },
            )
            .catch((error: unknown) => error),
        ),
      );
      // A write that kept losing gives up with a StateStoreError (the event is retried); none overwrites a newer mark.
      for (const result of results)
        if (result instanceof Error) expect(result).toBeInstanceOf(StateStoreError);
      const newest = (await store.people.get('id:E1'))?.mark;
      const applied = marks.filter((_, i) => !(results[i] instanceof Error));
      expect(newest?.eventId).toBe(`e${Math.max(...applied.map((m) => m.sequence))}`);
    });
  });

  describe('steps cap', () => {
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
      expect((await rawItem(eventItemKey('evt-1')))?.stepsAppended).toBe(total);
    });

    it('loses no step when appends race at the cap', async () => {
      await store.events.accept(canonicalEvent('evt-1'), { source: 'events', at: AT, sequence: 1 });
      for (let i = 0; i < MAX_STORED_STEPS - 2; i++) await store.events.addStep('evt-1', stepRecord(`s${i}`));
      const other = createDynamoDbStateStore({ client: dynamo.createClient(), tableName, now: () => NOW_MS });
      await Promise.all(
        ['x0', 'x1', 'x2', 'x3'].map((key, i) =>
          (i % 2 ? store : other).events.addStep('evt-1', stepRecord(key)),
        ),
      );
      const keys = (await store.events.get('evt-1'))?.steps.map((s) => s.key) ?? [];
      expect(keys).toHaveLength(MAX_STORED_STEPS);
      expect(keys.filter((k) => k.startsWith('x')).sort()).toEqual(['x0', 'x1', 'x2', 'x3']);
      expect(keys.slice(0, 2)).toEqual(['s2', 's3']);
    });

    it('cuts a step error that would bloat the item', async () => {
      await store.events.accept(canonicalEvent('evt-1'), { source: 'events', at: AT, sequence: 1 });
      await store.events.addStep('evt-1', stepRecord('create', { error: 'x'.repeat(100_000) }));
      const [step] = (await store.events.get('evt-1'))?.steps ?? [];
      expect(step?.error).toHaveLength(MAX_STEP_ERROR_LENGTH);
      expect(step?.error?.endsWith('…')).toBe(true);
    });
  });

  describe('list paging over the status index', () => {
    const seed = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const id = `evt-${i}`;
        await store.events.accept(canonicalEvent(id), { source: 'events', at: AT, sequence: 1 });
        // Ledger entries and marks share the table; the sparse index keeps them out of every listing.
        await store.ledger.claim(id, 'create', { owner: 'a', nowMs: NOW_MS, leaseMs: 1 });
        await store.people.link(`id:E${i}`, `e${i}@example.com`, undefined);
        if (i % 3 === 0) await store.events.finish(id, { status: 'failed', at: AT, error: 'x' });
      }
    };

    const collect = async (query: { status?: 'failed' | 'queued'; limit: number }) => {
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.events.list({ ...query, ...(cursor ? { cursor } : {}) });
        ids.push(...page.records.map((r) => r.eventId));
        expect(page.records.length).toBe(page.cursor ? query.limit : page.records.length);
        cursor = page.cursor;
        pages++;
      } while (cursor);
      return { ids, pages };
    };

    it('pages through more than one DynamoDB page, with and without a status', async () => {
      await seed(13);
      const all = await collect({ limit: 2 });
      expect(all.pages).toBe(7);
      expect(all.ids.sort()).toEqual(Array.from({ length: 13 }, (_, i) => `evt-${i}`).sort());

      const failed = await collect({ status: 'failed', limit: 2 });
      expect(failed.pages).toBe(3);
      expect(failed.ids.sort()).toEqual(['evt-0', 'evt-12', 'evt-3', 'evt-6', 'evt-9']);

      const queued = await collect({ status: 'queued', limit: 4 });
      expect(queued.pages).toBe(2);
      expect(queued.ids).toHaveLength(8);
    });

    it('rejects a cursor it did not hand out', async () => {
      await expect(store.events.list({ limit: 2, cursor: 'not-a-cursor' })).rejects.toThrow('invalid cursor');
      await expect(store.events.list({ limit: 2, cursor: 'bnVsbA' })).rejects.toThrow('invalid cursor');
    });
  });

  describe('errors', () => {
    it('throws a StateStoreError naming the call when DynamoDB fails for another reason than a condition', async () => {
      const broken = createDynamoDbStateStore({ client: dynamo.client, tableName: 'no-such-table' });
      const failure = broken.events.get('evt-1');
      await expect(failure).rejects.toBeInstanceOf(StateStoreError);
      await expect(failure).rejects.toThrow(/GetItem EVENT#evt-1 EVENT failed: ResourceNotFoundException/);
      await expect(
        broken.ledger.claim('evt-1', 'create', { owner: 'a', nowMs: 0, leaseMs: 1 }),
      ).rejects.toBeInstanceOf(StateStoreError);
      await expect(broken.events.list({ limit: 1 })).rejects.toBeInstanceOf(StateStoreError);
    });
  });

  describe('the failed item returned on a lost condition', () => {
    it('answers a lost claim, a duplicate accept and a stale mark without reading again', async () => {
      const commands: string[] = [];
      const client = dynamo.createClient({
        returnOldItemOnConditionFailure: true,
        onCommand: (name) => commands.push(name),
      });
      const saving = createDynamoDbStateStore({ client, tableName, now: () => NOW_MS });
      await saving.ledger.claim('evt-1', 'create', { owner: 'a', nowMs: 0, leaseMs: 1_000 });
      await saving.events.accept(canonicalEvent('evt-1'), { source: 'events', at: AT, sequence: 1 });
      await saving.people.link('id:E1', 'ada@example.com', undefined);
      commands.length = 0;

      expect(await saving.ledger.claim('evt-1', 'create', { owner: 'b', nowMs: 0, leaseMs: 1_000 })).toEqual({
        state: 'held',
        untilMs: 1_000,
      });
      expect(
        (await saving.events.accept(canonicalEvent('evt-1'), { source: 'other', at: AT, sequence: 1 })).record
          .source,
      ).toBe('events');
      expect(await saving.people.link('id:E2', 'ada@example.com', undefined)).toEqual({
        linked: false,
        owner: 'id:E1',
      });

      expect(commands).toEqual(['UpdateItemCommand', 'PutItemCommand', 'UpdateItemCommand']);
    });
  });
});
