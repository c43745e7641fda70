import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCanonicalEvent } from '../../functions/core/events/canonical-event';
import type { EventQueue, OutgoingMessage } from '../../functions/core/queue/event-queue';
import { EnqueueError } from '../../functions/core/queue/event-queue';
import { hireEvent, ingestFor, jsonRequest, RecordingQueue, signed } from '../support/ingest-harness';
import { expectNoSecretsInResponses, expectNothingRecorded, sentIds } from './ingest-assertions';

expectNoSecretsInResponses();

const MIB = 1024 * 1024;
const sampleEvents: unknown[] = readFileSync(new URL('../../samples/events.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line): unknown => JSON.parse(line));

const hires = (count: number, prefix = 'evt') =>
  Array.from({ length: count }, (_, i) => hireEvent(`${prefix}-${i}`, `person${i}@example.com`));

describe('POST /events: accepting', () => {
  it('accepts one canonical event with a bearer token, records it and enqueues it by employee', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(jsonRequest('/events', hireEvent('evt-1', 'Ada@Example.COM')));

    expect(response.status).toBe(202);
    expect(response.json).toEqual({ events: [{ id: 'evt-1', status: 'queued' }] });
    expect(ingest.queue.sent).toHaveLength(1);
    const [message] = ingest.queue.sent;
    expect(message).toMatchObject({ eventId: 'evt-1', groupId: 'id:E-evt-1', deduplicationId: 'evt-1' });
    // The body is the normalised canonical event: lower-cased email, one UTC form of the time.
    expect(JSON.parse(message?.body ?? '')).toEqual({
      id: 'evt-1',
      type: 'hire',
      occurredAt: '2026-11-29T09:00:00.000Z',
      employee: { id: 'E-evt-1', email: 'ada@example.com' },
      roles: ['tenant-member'],
    });
    const record = await ingest.store.get('evt-1');
    expect(record).toMatchObject({ status: 'queued', enqueued: true, source: 'token' });
  });

  it('accepts a JSON array and answers each event in order, enqueued in order', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(jsonRequest('/events', sampleEvents));

    expect(response.status).toBe(202);
    const ids = ['evt-0001', 'evt-0002', 'evt-0003', 'evt-0004', 'evt-0005'];
    expect(response.json).toEqual({ events: ids.map((id) => ({ id, status: 'queued' })) });
    expect(sentIds(ingest.queue)).toEqual(ids);
    // One group per person (the HR employee id): E1002's events stay in order whatever the email's case.
    expect(ingest.queue.sent.map((m) => m.groupId)).toEqual([
      'id:E1001',
      'id:E1002',
      'id:E1001',
      'id:E1002',
      'id:E1002',
    ]);
    const grace = JSON.parse(ingest.queue.sent[1]?.body ?? '') as { employee: { email: string } };
    expect(grace.employee.email).toBe('grace.hopper@example.com');
  });

  it('accepts { "events": [...] }', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(jsonRequest('/events', { events: hires(3) }));

    expect(response.status).toBe(202);
    expect(response.json).toEqual({
      events: ['evt-0', 'evt-1', 'evt-2'].map((id) => ({ id, status: 'queued' })),
    });
    expect(sentIds(ingest.queue)).toEqual(['evt-0', 'evt-1', 'evt-2']);
  });

  it('accepts a Standard Webhooks signed request', async () => {
    const ingest = ingestFor();
    const body = JSON.stringify(hireEvent('evt-signed'));
    const response = await ingest.call(jsonRequest('/events', body, signed(body)));

    expect(response.status).toBe(202);
    expect(sentIds(ingest.queue)).toEqual(['evt-signed']);
  });

  it('accepts a content type with parameters and a +json type', async () => {
    const ingest = ingestFor();
    const one = jsonRequest('/events', hireEvent('evt-a'));
    const two = jsonRequest('/events', hireEvent('evt-b'));
    const a = await ingest.call({
      ...one,
      headers: { ...one.headers, 'content-type': 'application/json; charset=utf-8' },
    });
    const b = await ingest.call({
      ...two,
      headers: { ...two.headers, 'content-type': 'application/vnd.hr+json' },
    });

    expect([a.status, b.status]).toEqual([202, 202]);
    expect(sentIds(ingest.queue)).toEqual(['evt-a', 'evt-b']);
  });

  it('accepts 500 events in one request', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(jsonRequest('/events', hires(500)));

    expect(response.status).toBe(202);
    expect(ingest.queue.sent).toHaveLength(500);
    expect((await ingest.store.list({ limit: 500 })).records).toHaveLength(500);
  });

  it('accepts a body of exactly 1 MiB', async () => {
    const ingest = ingestFor();
    const event = JSON.stringify(hireEvent('evt-big'));
    const response = await ingest.call(jsonRequest('/events', event.padEnd(MIB, ' ')));

    expect(response.status).toBe(202);
    expect(sentIds(ingest.queue)).toEqual(['evt-big']);
  });
});

describe('POST /events: idempotency', () => {
  it('answers an id seen before with its status and duplicate: true, and does not enqueue it again', async () => {
    const ingest = ingestFor();
    await ingest.call(jsonRequest('/events', hireEvent('evt-1')));
    const again = await ingest.call(jsonRequest('/events', hireEvent('evt-1')));

    expect(again.status).toBe(202);
    expect(again.json).toEqual({ events: [{ id: 'evt-1', status: 'queued', duplicate: true }] });
    expect(sentIds(ingest.queue)).toEqual(['evt-1']);
  });

  it("answers a duplicate with the event's current status, not the one it was accepted with", async () => {
    const ingest = ingestFor();
    await ingest.call(jsonRequest('/events', hireEvent('evt-1')));
    await ingest.store.finish('evt-1', { status: 'succeeded', at: '2026-11-29T09:01:00Z' });
    const again = await ingest.call(jsonRequest('/events', hireEvent('evt-1')));

    expect(again.json).toEqual({ events: [{ id: 'evt-1', status: 'succeeded', duplicate: true }] });
    expect(ingest.queue.sent).toHaveLength(1);
  });

  it('enqueues only the new ids of a request that mixes new and seen ones', async () => {
    const ingest = ingestFor();
    await ingest.call(jsonRequest('/events', [hireEvent('evt-1', 'a@example.com')]));
    const response = await ingest.call(
      jsonRequest('/events', [hireEvent('evt-1', 'a@example.com'), hireEvent('evt-2', 'b@example.com')]),
    );

    expect(response.json).toEqual({
      events: [
        { id: 'evt-1', status: 'queued', duplicate: true },
        { id: 'evt-2', status: 'queued' },
      ],
    });
    expect(sentIds(ingest.queue)).toEqual(['evt-1', 'evt-2']);
  });

  it('enqueues an id repeated inside one request once, answering the repeat as a duplicate', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(jsonRequest('/events', [hireEvent('evt-1'), hireEvent('evt-1')]));

    expect(response.json).toEqual({
      events: [
        { id: 'evt-1', status: 'queued' },
        { id: 'evt-1', status: 'queued', duplicate: true },
      ],
    });
    expect(sentIds(ingest.queue)).toEqual(['evt-1']);
  });

  it('enqueues an id that was recorded but never confirmed on the queue (a crash in between)', async () => {
    const ingest = ingestFor();
    // What a crash between recording and enqueueing leaves: the record, not enqueued, and no message.
    const parsed = parseCanonicalEvent(hireEvent('evt-1'));
    if (!parsed.ok) throw new Error('the test event is invalid');
    await ingest.store.accept(parsed.event, { source: 'events', at: '2026-11-29T09:00:01Z', sequence: 1 });
    expect(await ingest.store.get('evt-1')).toMatchObject({ enqueued: false });

    const response = await ingest.call(jsonRequest('/events', hireEvent('evt-1')));

    expect(response.status).toBe(202);
    expect(sentIds(ingest.queue)).toEqual(['evt-1']);
    expect(await ingest.store.get('evt-1')).toMatchObject({ enqueued: true });
  });
});

describe('POST /events: the queue refuses', () => {
  it('answers 503 with Retry-After; the events are recorded but not marked enqueued', async () => {
    const ingest = ingestFor();
    ingest.queue.refuse = true;
    const response = await ingest.call(jsonRequest('/events', hires(2)));

    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json).toMatchObject({ error: 'queue_unavailable' });
    expect(ingest.queue.sent).toEqual([]);
    expect(await ingest.store.get('evt-0')).toMatchObject({ status: 'queued', enqueued: false });
    expect(await ingest.store.get('evt-1')).toMatchObject({ status: 'queued', enqueued: false });
  });

  it('a retry succeeds and enqueues the events exactly once; a later resubmission enqueues nothing', async () => {
    const ingest = ingestFor();
    ingest.queue.refuse = true;
    expect((await ingest.call(jsonRequest('/events', hires(2)))).status).toBe(503);

    ingest.queue.refuse = false;
    const retry = await ingest.call(jsonRequest('/events', hires(2)));
    // The first request failed, so to its sender these are not duplicates: this request queued them.
    expect(retry.status).toBe(202);
    expect(retry.json).toEqual({
      events: [
        { id: 'evt-0', status: 'queued' },
        { id: 'evt-1', status: 'queued' },
      ],
    });
    expect(sentIds(ingest.queue)).toEqual(['evt-0', 'evt-1']);
    expect(await ingest.store.get('evt-0')).toMatchObject({ enqueued: true });

    const third = await ingest.call(jsonRequest('/events', hires(2)));
    expect(third.json).toEqual({
      events: [
        { id: 'evt-0', status: 'queued', duplicate: true },
        { id: 'evt-1', status: 'queued', duplicate: true },
      ],
    });
    expect(sentIds(ingest.queue)).toEqual(['evt-0', 'evt-1']);
  });

  it('when the queue takes some messages and refuses others, the retry enqueues only the refused ones', async () => {
    // Like SQS answering a batch with some entries failed: the EnqueueError names exactly those.
    class PartlyRefusingQueue implements EventQueue {
      readonly sent: OutgoingMessage[] = [];
      refusing = new Set(['evt-1']);
      async send(messages: OutgoingMessage[]): Promise<void> {
        const refused = messages.filter((m) => this.refusing.has(m.eventId));
        this.sent.push(...messages.filter((m) => !this.refusing.has(m.eventId)));
        if (refused.length > 0) {
          throw new EnqueueError(
            refused.map((m) => m.eventId),
            'throttled',
          );
        }
      }
    }
    const queue = new PartlyRefusingQueue();
    const ingest = ingestFor({ queue });

    expect((await ingest.call(jsonRequest('/events', hires(3)))).status).toBe(503);
    expect(queue.sent.map((m) => m.eventId)).toEqual(['evt-0', 'evt-2']);
    expect(await ingest.store.get('evt-0')).toMatchObject({ enqueued: true });
    expect(await ingest.store.get('evt-1')).toMatchObject({ enqueued: false });

    queue.refusing.clear();
    const retry = await ingest.call(jsonRequest('/events', hires(3)));
    expect(retry.status).toBe(202);
    expect(retry.json).toEqual({
      events: [
        { id: 'evt-0', status: 'queued', duplicate: true },
        { id: 'evt-1', status: 'queued' },
        { id: 'evt-2', status: 'queued', duplicate: true },
      ],
    });
    expect(queue.sent.map((m) => m.eventId)).toEqual(['evt-0', 'evt-2', 'evt-1']);
  });

  it('a queue failure that is not an EnqueueError is a 500 that says nothing internal', async () => {
    const queue = new RecordingQueue();
    queue.send = async () => {
      throw new Error(`socket hang up at 10.0.0.7 with token ${'x'.repeat(8)}`);
    };
    const ingest = ingestFor({ queue });
    const response = await ingest.call(jsonRequest('/events', hireEvent()));

    expect(response.status).toBe(500);
    expect(response.json).toEqual({
      error: 'internal_error',
      message: 'the request could not be handled; retry it later',
    });
  });
});

describe('POST /events: bad input is refused and leaves no trace', () => {
  it('malformed JSON → 400 naming the line and column', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(jsonRequest('/events', '{\n  "id": "evt-1",\n  "type": ,\n}'));

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'malformed_json' });
    expect(response.json.message).toMatch(/line 3, column 11/);
    await expectNothingRecorded(ingest);
  });

  it('an empty body → 400 malformed JSON at line 1, column 1', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(jsonRequest('/events', ''));

    expect(response.status).toBe(400);
    expect(response.json.message).toMatch(/line 1, column 1/);
    await expectNothingRecorded(ingest);
  });

  it('schema violations → 400 naming each field', async () => {
    const ingest = ingestFor();
    const { type: _type, ...withoutType } = hireEvent('evt-1', 'not-an-email');
    const response = await ingest.call(jsonRequest('/events', { ...withoutType, colour: 'blue' }));

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'invalid_event' });
    const paths = (response.json.issues as { path: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(['colour', 'employee.email', 'type']);
    expect(response.json.message).toMatch(/employee\.email: must be an email address/);
    expect(response.json.message).toMatch(/type: must be one of hire, role_change, offboard/);
    expect(response.json.message).toMatch(/colour: is not a known field/);
    // A single event is not in an array: no index.
    expect(response.json.issues).not.toContainEqual(expect.objectContaining({ event: expect.anything() }));
    await expectNothingRecorded(ingest);
  });

  it('in an array, every issue names the event index, and the valid events are not accepted either', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(
      jsonRequest('/events', [
        hireEvent('evt-0'),
        hireEvent('evt-1', 'nope'),
        { ...hireEvent('evt-2'), id: '' },
      ]),
    );

    expect(response.status).toBe(400);
    expect(response.json.issues).toEqual([
      { event: 1, path: '[1].employee.email', message: 'must be an email address' },
      { event: 2, path: '[2].id', message: 'must not be empty' },
    ]);
    expect(response.json.message).toMatch(/^2 problem\(s\)/);
    await expectNothingRecorded(ingest);
  });

  it('in { "events": [...] }, issues are named under events[i]', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(
      jsonRequest('/events', { events: [hireEvent('evt-0'), hireEvent('evt-1', 'x@')] }),
    );

    expect(response.status).toBe(400);
    expect(response.json.issues).toEqual([
      { event: 1, path: 'events[1].employee.email', message: 'must be an email address' },
    ]);
    await expectNothingRecorded(ingest);
  });

  it('an unknown type → 400 listing the allowed types', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(
      jsonRequest('/events', [hireEvent('evt-0'), { ...hireEvent('evt-1'), type: 'promote' }]),
    );

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({
      error: 'invalid_event',
      allowed: ['hire', 'role_change', 'offboard'],
    });
    expect(response.json.issues).toEqual([
      { event: 1, path: '[1].type', message: 'must be one of hire, role_change, offboard' },
    ]);
    await expectNothingRecorded(ingest);
  });

  it('a missing type → 400 naming the field and the allowed types', async () => {
    const ingest = ingestFor();
    const { type: _type, ...event } = hireEvent();
    const response = await ingest.call(jsonRequest('/events', event));

    expect(response.status).toBe(400);
    expect(response.json.issues).toEqual([
      { path: 'type', message: 'must be one of hire, role_change, offboard' },
    ]);
    expect(response.json.allowed).toEqual(['hire', 'role_change', 'offboard']);
    await expectNothingRecorded(ingest);
  });

  it('a field of the wrong kind → 400 saying what was expected', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(jsonRequest('/events', { ...hireEvent(), roles: 'tenant-member' }));

    expect(response.status).toBe(400);
    expect(response.json.issues).toEqual([{ path: 'roles', message: 'must be an array (got string)' }]);
    expect(response.json.allowed).toBeUndefined();
    await expectNothingRecorded(ingest);
  });

  it.each([
    ['an empty array', []],
    ['an empty events list', { events: [] }],
    ['events that is not an array', { events: hireEvent() }],
    ['a string', 'hire'],
    ['null', null],
  ])('%s → 400', async (_name, body) => {
    const ingest = ingestFor();
    const response = await ingest.call(jsonRequest('/events', JSON.stringify(body)));

    expect(response.status).toBe(400);
    expect(typeof response.json.message).toBe('string');
    await expectNothingRecorded(ingest);
  });

  it('one event larger than 64 KiB → 400 naming it', async () => {
    const ingest = ingestFor();
    const big = {
      ...hireEvent('evt-1'),
      employee: { id: 'E1', email: 'a@example.com', name: 'x'.repeat(70_000) },
    };
    const response = await ingest.call(jsonRequest('/events', [hireEvent('evt-0'), big]));

    expect(response.status).toBe(400);
    expect(response.json.issues).toEqual([{ event: 1, path: '[1]', message: 'is larger than 64 KiB' }]);
    await expectNothingRecorded(ingest);
  });

  it('more than 500 events → 413, as an array or wrapped', async () => {
    const ingest = ingestFor();
    const array = await ingest.call(jsonRequest('/events', hires(501)));
    const wrapped = await ingest.call(jsonRequest('/events', { events: hires(501) }));

    for (const response of [array, wrapped]) {
      expect(response.status).toBe(413);
      expect(response.json).toMatchObject({ error: 'too_many_events' });
      expect(response.json.message).toMatch(/at most 500 events per request, got 501/);
    }
    await expectNothingRecorded(ingest);
  });

  it('a body over 1 MiB → 413, even when it is a valid event', async () => {
    const ingest = ingestFor();
    const event = JSON.stringify(hireEvent('evt-big'));
    const response = await ingest.call(jsonRequest('/events', event.padEnd(MIB + 1, ' ')));

    expect(response.status).toBe(413);
    expect(response.json).toMatchObject({ error: 'body_too_large' });
    expect(response.json.message).toMatch(/1 MiB/);
    await expectNothingRecorded(ingest);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['text/csv', 'text/csv'],
    ['no content type', undefined],
  ])('an unsupported content type (%s) → 415', async (_name, contentType) => {
    const ingest = ingestFor();
    const request = jsonRequest('/events', hireEvent());
    const { 'content-type': _json, ...headers } = request.headers;
    const response = await ingest.call({
      ...request,
      headers: contentType === undefined ? headers : { ...headers, 'content-type': contentType },
    });

    expect(response.status).toBe(415);
    expect(response.json).toMatchObject({ error: 'unsupported_media_type', allowed: ['application/json'] });
    await expectNothingRecorded(ingest);
  });
});
