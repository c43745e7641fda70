import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../../functions/core/engine/ports';
import { parseCanonicalEvent } from '../../functions/core/events/canonical-event';
import { idConflictCheck, sourceFamily, stableJson } from '../../functions/core/ingest/accept-events';
import { mapBambooHrWebhook } from '../../functions/core/ingest/bamboohr/webhook';
import {
  BAMBOOHR_KEY,
  bamboohrSigned,
  bearer,
  hireEvent,
  ingestFor,
  jsonRequest,
} from '../support/ingest-harness';
import { expectNoSecretsInResponses, sentIds } from './ingest-assertions';

expectNoSecretsInResponses();

const HOUR = 3_600_000;

function batch(body: string, contentType: string, query: Record<string, string> = {}) {
  return {
    method: 'POST',
    path: '/batch',
    query,
    headers: { ...bearer(), 'content-type': contentType },
    body: Buffer.from(body),
  };
}

/** An ingest whose clock the test moves, starting a day after the harness events happened. */
function ingestWithClock() {
  const clock = { now: Date.parse('2026-11-30T09:00:00Z') };
  return { clock, ...ingestFor({ now: () => clock.now }) };
}

const recordedIds = async (ingest: ReturnType<typeof ingestFor>) =>
  (await ingest.store.list({ limit: 500 })).records.map((r) => r.eventId).sort();

function canonical(input: unknown) {
  const parsed = parseCanonicalEvent(input);
  if (!parsed.ok) throw new Error('the test event is invalid');
  return parsed.event;
}

describe('the conflict check', () => {
  const record = (source: string, event = canonical(hireEvent('evt-1'))) =>
    ({ source, event }) as EventRecord;

  it('groups sources by what comes before the colon', () => {
    expect(['events', 'batch:b1', 'batch:b2', 'bamboohr'].map(sourceFamily)).toEqual([
      'token',
      'batch',
      'batch',
      'bamboohr',
    ]);
  });

  it('writes equal values in any key order as the same text', () => {
    expect(stableJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"e":0,"f":1}]},"b":1}',
    );
  });

  it('refuses another source, and an explicit id for a different event; a derived id only by source', () => {
    const event = canonical(hireEvent('evt-1'));
    const other = canonical({ ...hireEvent('evt-1'), roles: ['tenant-admin'] });
    const explicit = idConflictCheck('batch:b2', [{ event: other }]);
    const derived = idConflictCheck('batch:b2', [{ event: other, derivedId: true }]);

    expect(explicit(other, record('events', other))).toMatch(/^id evt-1 belongs to another source \(token\)/);
    expect(explicit(other, record('batch:b1', event))).toMatch(
      /^id evt-1 was already used for a different event/,
    );
    expect(explicit(other, record('batch:b1', other))).toBeUndefined();
    expect(derived(other, record('batch:b1', event))).toBeUndefined();
    expect(derived(other, record('bamboohr', other))).toMatch(/belongs to another source/);
  });

  it('claims no namespace for a record made without knowing its sender, but still compares its content', () => {
    const event = canonical(hireEvent('evt-1'));
    const check = idConflictCheck('events', [{ event }]);
    expect(check(event, record('queue', event))).toBeUndefined();
    expect(check(event, record('queue', canonical({ ...hireEvent('evt-1'), type: 'offboard' })))).toMatch(
      /different event/,
    );
  });
});

describe('POST /events: an id already recorded', () => {
  it('by another source → 409 naming the id, and nothing of the request is recorded', async () => {
    const ingest = ingestFor();
    const csv =
      'id,type,employee_id,email,roles,occurred_at\nshared-1,hire,E-shared-1,ada@example.com,tenant-member,2026-11-29T09:00:00Z\n';
    expect((await ingest.call(batch(csv, 'text/csv', { batchId: 'b1' }))).status).toBe(202);

    const response = await ingest.call(jsonRequest('/events', [hireEvent('evt-new'), hireEvent('shared-1')]));

    expect(response.status).toBe(409);
    expect(response.json).toMatchObject({ error: 'id_conflict' });
    expect(response.json.message).toMatch(
      /^id shared-1 belongs to another source \(batch\).*nothing was accepted$/,
    );
    expect(await recordedIds(ingest)).toEqual(['shared-1']);
    expect(sentIds(ingest.queue)).toEqual(['shared-1']);
  });

  it('for a different event → 409 "already used for a different event", nothing recorded', async () => {
    const ingest = ingestFor();
    await ingest.call(jsonRequest('/events', hireEvent('evt-1')));

    const changed = { ...hireEvent('evt-1'), roles: ['tenant-admin'] };
    const response = await ingest.call(jsonRequest('/events', [hireEvent('evt-2'), changed]));

    expect(response.status).toBe(409);
    expect(response.json.message).toMatch(/^id evt-1 was already used for a different event/);
    expect(await recordedIds(ingest)).toEqual(['evt-1']);
    expect((await ingest.store.get('evt-1'))?.event.roles).toEqual(['tenant-member']);
    expect(sentIds(ingest.queue)).toEqual(['evt-1']);
  });

  it('for the same event, spelled differently, is a duplicate as before', async () => {
    const ingest = ingestFor();
    await ingest.call(jsonRequest('/events', hireEvent('evt-1')));
    const { roles, employee, ...rest } = hireEvent('evt-1');
    // Other key order, an upper-case email, the same instant in another zone: the same normalised event.
    const respelled = {
      roles,
      employee: { email: 'ADA@example.com', id: employee.id },
      ...rest,
      occurredAt: '2026-11-29T10:00:00+01:00',
    };
    const response = await ingest.call(jsonRequest('/events', respelled));

    expect(response.status).toBe(202);
    expect(response.json).toEqual({ events: [{ id: 'evt-1', status: 'queued', duplicate: true }] });
  });

  it('one request with two different events under one id → 409, nothing recorded', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(
      jsonRequest('/events', [hireEvent('evt-1'), { ...hireEvent('evt-1'), type: 'offboard' }]),
    );

    expect(response.status).toBe(409);
    expect(response.json.message).toMatch(/^id evt-1 is used for two different events in this request/);
    expect(await recordedIds(ingest)).toEqual([]);
    expect(ingest.queue.sent).toEqual([]);
  });

  it('recorded by another request after the check → 409 naming it; it is not enqueued, the rest is', async () => {
    const ingest = ingestFor();
    await ingest.call(jsonRequest('/events', hireEvent('evt-1')));
    // The other request lands between this one's check and its recording: the check does not see it.
    const get = ingest.store.get.bind(ingest.store);
    ingest.store.get = async (id) => (id === 'evt-1' ? undefined : get(id));

    const changed = { ...hireEvent('evt-1'), type: 'offboard' };
    const response = await ingest.call(jsonRequest('/events', [changed, hireEvent('evt-2')]));

    expect(response.status).toBe(409);
    expect(response.json.message).toMatch(
      /^id evt-1 was already used for a different event.*the other events of this request were accepted$/,
    );
    expect(sentIds(ingest.queue)).toEqual(['evt-1', 'evt-2']);
    expect((await get('evt-1'))?.event.type).toBe('hire');
  });
});

describe('POST /batch: an id already recorded', () => {
  const rows = (...lines: string[]) => ['id,type,email,roles', ...lines].join('\n');

  it('by another source: the row is rejected by its line with the conflict, the others accepted', async () => {
    const ingest = ingestFor();
    await ingest.call(jsonRequest('/events', hireEvent('evt-1')));

    const response = await ingest.call(
      batch(rows('r-1,hire,one@example.com,', 'evt-1,hire,ada@example.com,tenant-member'), 'text/csv'),
    );

    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(response.json.rejected).toEqual([
      { line: 3, error: expect.stringMatching(/^id evt-1 belongs to another source \(token\)/) },
    ]);
    expect(sentIds(ingest.queue)).toEqual(['evt-1', 'r-1']);
    expect((await ingest.store.get('evt-1'))?.source).toBe('token');
  });

  it('for a different event in another batch: the row is rejected; strict mode accepts nothing', async () => {
    const ingest = ingestFor();
    await ingest.call(batch(rows('x-1,hire,one@example.com,tenant-member'), 'text/csv', { batchId: 'b1' }));
    const changed = rows('x-2,hire,two@example.com,', 'x-1,hire,one@example.com,tenant-admin');

    const strict = await ingest.call(batch(changed, 'text/csv', { batchId: 'b2', strict: 'true' }));
    expect(strict.status).toBe(422);
    expect(strict.json).toMatchObject({
      error: 'rejected_rows',
      rejected: [{ line: 3, error: expect.stringMatching(/^id x-1 was already used for a different event/) }],
    });
    expect(await recordedIds(ingest)).toEqual(['x-1']);

    const lenient = await ingest.call(batch(changed, 'text/csv', { batchId: 'b2' }));
    expect(lenient.json).toMatchObject({
      accepted: 1,
      rejected: [{ line: 3, error: expect.stringMatching(/^id x-1 was already used/) }],
    });
    expect(sentIds(ingest.queue)).toEqual(['x-1', 'x-2']);
    expect((await ingest.store.get('x-1'))?.event.roles).toEqual(['tenant-member']);
  });

  it('a resumed upload of rows without occurred_at is a duplicate, though their receipt time changed', async () => {
    const ingest = ingestWithClock();
    const csv = rows('x-1,hire,one@example.com,tenant-member', ',offboard,two@example.com,');
    const jsonl = JSON.stringify({
      id: 'j-1',
      type: 'offboard',
      employee: { id: 'E3', email: 'c@example.com' },
    });
    await ingest.call(batch(csv, 'text/csv', { batchId: 'b1' }));
    await ingest.call(batch(jsonl, 'application/x-ndjson', { batchId: 'j1' }));

    ingest.clock.now += HOUR;
    const csvAgain = await ingest.call(batch(csv, 'text/csv', { batchId: 'b1' }));
    const jsonlAgain = await ingest.call(batch(jsonl, 'application/x-ndjson', { batchId: 'j1' }));

    expect(csvAgain.json).toEqual({ batchId: 'b1', accepted: 0, duplicates: 2, rejected: [] });
    expect(jsonlAgain.json).toEqual({ batchId: 'j1', accepted: 0, duplicates: 1, rejected: [] });
    expect(ingest.queue.sent).toHaveLength(3);
  });

  it('an explicit id whose occurred_at was given is compared with it', async () => {
    const ingest = ingestFor();
    const at = (time: string) => `id,type,email,occurred_at\nx-1,offboard,one@example.com,${time}\n`;
    await ingest.call(batch(at('2026-11-28T09:00:00Z'), 'text/csv', { batchId: 'b1' }));
    const response = await ingest.call(batch(at('2026-11-29T09:00:00Z'), 'text/csv', { batchId: 'b1' }));

    expect(response.json.rejected).toEqual([
      { line: 2, error: expect.stringMatching(/^id x-1 was already used for a different event/) },
    ]);
  });
});

describe('POST /batch: derived ids belong to their batch', () => {
  const offboard = 'type,email,name\noffboard,leaver@example.com,Lee\n';

  it('the same row in a new batch is a new event; in the same batch (a resumed upload) a duplicate', async () => {
    const ingest = ingestWithClock();
    const first = await ingest.call(batch(offboard, 'text/csv', { batchId: 'b1' }));
    ingest.clock.now += HOUR;
    const resumed = await ingest.call(
      batch(offboard.replace('Lee', 'Lee R.'), 'text/csv', { batchId: 'b1' }),
    );
    const again = await ingest.call(batch(offboard, 'text/csv', { batchId: 'b2' }));

    expect(first.json).toMatchObject({ accepted: 1, duplicates: 0 });
    // A derived id says the same instruction already: a changed name does not make it a conflict.
    expect(resumed.json).toMatchObject({ accepted: 0, duplicates: 1, rejected: [] });
    expect(again.json).toMatchObject({ accepted: 1, duplicates: 0, rejected: [] });
    expect(sentIds(ingest.queue)).toEqual([
      expect.stringMatching(/^csv-b1-[0-9a-f]{24}$/),
      expect.stringMatching(/^csv-b2-[0-9a-f]{24}$/),
    ]);
    const second = await ingest.store.get(ingest.queue.sent[1]?.eventId ?? '');
    expect(second).toMatchObject({ source: 'batch:b2', occurredAt: '2026-11-30T10:00:00.000Z' });
  });
});

describe('POST /webhooks/bamboohr: ids', () => {
  const NOW = Date.parse('2026-11-30T09:00:00Z');
  const entry = (id: string, timestamp?: string) => ({
    id,
    action: 'Updated',
    ...(timestamp === undefined ? {} : { timestamp }),
    changedFields: ['Status'],
    fields: { 'Employee #': `E${id}`, 'Work Email': `${id}@example.com`, Status: 'Inactive' },
  });
  const deliver = (body: string, now: number) =>
    jsonRequest('/webhooks/bamboohr', body, bamboohrSigned(body, BAMBOOHR_KEY, Math.floor(now / 1000)));

  it('an entry without a timestamp sent again later is a new event; one with a timestamp a duplicate', async () => {
    const clock = { now: NOW };
    const ingest = ingestFor({ now: () => clock.now });
    const body = JSON.stringify({ employees: [entry('4021'), entry('4022', '2026-11-30T08:00:00Z')] });
    const first = await ingest.call(deliver(body, clock.now));
    clock.now += HOUR;
    const later = await ingest.call(deliver(body, clock.now));

    const answers = (response: typeof first) => response.json.events as { id: string; duplicate?: true }[];
    expect(answers(later)[0]?.id).not.toBe(answers(first)[0]?.id);
    expect(answers(later)[0]?.duplicate).toBeUndefined();
    expect(answers(later)[1]).toEqual({ id: answers(first)[1]?.id, status: 'queued', duplicate: true });
    expect(ingest.queue.sent).toHaveLength(3);
  });

  it('an id another source recorded (before bamboohr- ids were reserved) skips the entry, not enqueued', async () => {
    const ingest = ingestFor({ now: () => NOW });
    const body = JSON.stringify({
      employees: [entry('4021', '2026-11-30T08:00:00Z'), entry('4022', '2026-11-30T08:00:00Z')],
    });
    const receivedAt = new Date(NOW).toISOString();
    const [legacy] = (await mapBambooHrWebhook(JSON.parse(body), { receivedAt })).events;
    if (!legacy) throw new Error('the test delivery maps to no event');
    await ingest.store.accept(legacy, { source: 'events', at: receivedAt, sequence: 1 });

    const response = await ingest.call(deliver(body, NOW));

    expect(response.status).toBe(202);
    expect(response.json.skipped).toEqual([
      {
        employeeId: '4021',
        reason: expect.stringMatching(/^id bamboohr-4021-\S+ belongs to another source \(token\)/),
      },
    ]);
    expect(response.json.events).toEqual([
      { id: expect.stringMatching(/^bamboohr-4022-/), status: 'queued' },
    ]);
    expect(sentIds(ingest.queue)).toEqual([expect.stringMatching(/^bamboohr-4022-/)]);
    expect((await ingest.store.get(legacy.id))?.source).toBe('events');
  });
});
