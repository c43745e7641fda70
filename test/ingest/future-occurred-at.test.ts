import { describe, expect, it } from 'vitest';
import type { IngestRequest } from '../../functions/core/ingest/http';
import { futureOccurredAtIssue, MAX_CLOCK_SKEW_MS } from '../../functions/core/ingest/sender-rules';
import {
  BAMBOOHR_KEY,
  bamboohrSigned,
  bearer,
  hireEvent,
  ingestFor,
  jsonRequest,
} from '../support/ingest-harness';
import { expectNoSecretsInResponses, expectNothingRecorded, sentIds } from './ingest-assertions';

expectNoSecretsInResponses();

const NOW = Date.parse('2026-12-01T12:00:00Z');
const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const MINUTE = 60_000;
/** Six minutes ahead: beyond the five minutes of clock skew allowed. */
const FUTURE = at(6 * MINUTE);

const ingestAtNow = () => ingestFor({ now: () => NOW });
const hireAt = (id: string, occurredAt: string) => ({ ...hireEvent(id), occurredAt });

function batch(body: string, contentType: string, query: Record<string, string> = {}) {
  return {
    method: 'POST',
    path: '/batch',
    query,
    headers: { ...bearer(), 'content-type': contentType },
    body: Buffer.from(body),
  } satisfies Partial<IngestRequest> & { method: string; path: string };
}

describe('the occurredAt bound', () => {
  it('allows five minutes of clock skew and no more', () => {
    expect(MAX_CLOCK_SKEW_MS).toBe(5 * MINUTE);
    expect(futureOccurredAtIssue(at(5 * MINUTE), NOW)).toBeUndefined();
    expect(futureOccurredAtIssue(at(-30 * 24 * 60 * MINUTE), NOW)).toBeUndefined();
    expect(futureOccurredAtIssue(at(5 * MINUTE + 1), NOW)).toEqual({
      path: 'occurredAt',
      message: expect.stringMatching(/^is in the future \(2026-12-01T12:05:00\.001Z/),
    });
  });

  it('compares instants, whatever the zone they are written in', () => {
    // 13:04+01:00 is 12:04Z: within the allowance; 13:06+01:00 is not.
    expect(futureOccurredAtIssue('2026-12-01T13:04:00+01:00', NOW)).toBeUndefined();
    expect(futureOccurredAtIssue('2026-12-01T13:06:00+01:00', NOW)).toBeDefined();
  });

  it('leaves what is not a date-time to the schema', () => {
    expect(futureOccurredAtIssue('tomorrow', NOW)).toBeUndefined();
    expect(futureOccurredAtIssue(42, NOW)).toBeUndefined();
  });
});

describe('POST /events: an occurredAt in the future', () => {
  it('is refused with 400 naming the field, nothing recorded', async () => {
    const ingest = ingestAtNow();
    const response = await ingest.call(jsonRequest('/events', hireAt('evt-1', FUTURE)));

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'invalid_event' });
    expect(response.json.issues).toEqual([
      { path: 'occurredAt', message: expect.stringMatching(/^is in the future/) },
    ]);
    expect(response.json.message).toMatch(/occurredAt: is in the future/);
    await expectNothingRecorded(ingest);
  });

  it('in { "events": [...] }, names events[i].occurredAt and refuses the valid events too', async () => {
    const ingest = ingestAtNow();
    const events = [hireAt('evt-0', at(0)), hireAt('evt-1', at(-MINUTE)), hireAt('evt-2', FUTURE)];
    const response = await ingest.call(jsonRequest('/events', { events }));

    expect(response.status).toBe(400);
    expect(response.json.issues).toEqual([
      { event: 2, path: 'events[2].occurredAt', message: expect.stringMatching(/^is in the future/) },
    ]);
    await expectNothingRecorded(ingest);
  });

  it('is reported with the other problems of the event', async () => {
    const ingest = ingestAtNow();
    const response = await ingest.call(
      jsonRequest('/events', [{ ...hireAt('evt-1', FUTURE), type: 'fire' }]),
    );

    expect(response.status).toBe(400);
    expect((response.json.issues as { path: string }[]).map((i) => i.path)).toEqual([
      '[0].type',
      '[0].occurredAt',
    ]);
    await expectNothingRecorded(ingest);
  });

  it('within the five minutes of clock skew is accepted', async () => {
    const ingest = ingestAtNow();
    const response = await ingest.call(jsonRequest('/events', hireAt('evt-1', at(4 * MINUTE))));

    expect(response.status).toBe(202);
    expect(sentIds(ingest.queue)).toEqual(['evt-1']);
  });
});

describe('POST /batch: an occurred_at in the future', () => {
  const csv = [
    'id,type,email,occurred_at',
    `r-1,hire,one@example.com,${at(-MINUTE)}`,
    `r-2,hire,two@example.com,${FUTURE}`,
    'r-3,hire,three@example.com,',
  ].join('\n');

  it('rejects the CSV row by its line, naming the occurred_at column, and accepts the others', async () => {
    const ingest = ingestAtNow();
    const response = await ingest.call(batch(csv, 'text/csv'));

    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(response.json.rejected).toEqual([
      { line: 3, error: expect.stringMatching(/^occurred_at: is in the future/) },
    ]);
    expect(sentIds(ingest.queue)).toEqual(['r-1', 'r-3']);
    expect(await ingest.store.get('r-2')).toBeUndefined();
  });

  it('strict mode rejects the whole file, nothing recorded', async () => {
    const ingest = ingestAtNow();
    const response = await ingest.call(batch(csv, 'text/csv', { strict: 'true' }));

    expect(response.status).toBe(422);
    expect(response.json).toMatchObject({
      error: 'rejected_rows',
      rejected: [{ line: 3, error: expect.stringMatching(/^occurred_at: is in the future/) }],
    });
    await expectNothingRecorded(ingest);
  });

  it('rejects a JSON line by its line, naming occurredAt', async () => {
    const ingest = ingestAtNow();
    const jsonl = [hireAt('j-1', at(0)), hireAt('j-2', FUTURE)].map((e) => JSON.stringify(e)).join('\n');
    const response = await ingest.call(batch(jsonl, 'application/x-ndjson'));

    expect(response.status).toBe(202);
    expect(response.json.rejected).toEqual([
      { line: 2, error: expect.stringMatching(/^occurredAt: is in the future/) },
    ]);
    expect(sentIds(ingest.queue)).toEqual(['j-1']);
  });
});

describe('POST /webhooks/bamboohr: an entry timestamped in the future', () => {
  it('is skipped with the reason, like any entry that cannot be an event; the others are accepted', async () => {
    const ingest = ingestAtNow();
    const entry = (id: string, timestamp: string) => ({
      id,
      action: 'Updated',
      timestamp,
      changedFields: ['Job Title'],
      fields: { 'Employee #': `E${id}`, 'Work Email': `${id}@example.com`, 'Job Title': 'Engineer' },
    });
    const body = JSON.stringify({ employees: [entry('4021', at(-MINUTE)), entry('4022', FUTURE)] });
    const response = await ingest.call(
      jsonRequest('/webhooks/bamboohr', body, bamboohrSigned(body, BAMBOOHR_KEY, NOW / 1000)),
    );

    expect(response.status).toBe(202);
    expect(response.json.skipped).toEqual([
      { employeeId: '4022', reason: expect.stringMatching(/^timestamp is in the future/) },
    ]);
    expect(response.json.events).toHaveLength(1);
    expect(ingest.queue.sent).toHaveLength(1);
    expect((await ingest.store.list({ limit: 10 })).records.map((r) => r.event.employee.id)).toEqual([
      'E4021',
    ]);
  });
});
