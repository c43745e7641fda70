import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { IngestRequest } from '../../functions/core/ingest/http';
import { bearer, ingestFor } from '../support/ingest-harness';
import { expectNoSecretsInResponses, expectNothingRecorded, sentIds } from './ingest-assertions';

expectNoSecretsInResponses();

const MIB = 1024 * 1024;
const sample = (name: string) => readFileSync(new URL(`../../samples/${name}`, import.meta.url), 'utf8');
const batchCsv = sample('batch.csv');
const eventsJsonl = sample('events.jsonl');

function batch(
  body: string,
  contentType: string | null = 'text/csv',
  query: Record<string, string> = {},
): Partial<IngestRequest> & { method: string; path: string } {
  return {
    method: 'POST',
    path: '/batch',
    query,
    headers: { ...bearer(), ...(contentType === null ? {} : { 'content-type': contentType }) },
    body: Buffer.from(body),
  };
}

/** A CSV of `count` valid hires, one per line after the header. */
const csvOf = (count: number, name = '') =>
  [
    'id,type,email,name',
    ...Array.from({ length: count }, (_, i) => `r-${i},hire,person${i}@example.com,${name}`),
  ].join('\n');

describe('POST /batch: CSV', () => {
  it('accepts the sample file: every row recorded under the batch and enqueued in file order', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(batch(batchCsv, 'text/csv', { batchId: 'onboarding-2026-11' }));

    expect(response.status).toBe(202);
    expect(response.json).toEqual({
      batchId: 'onboarding-2026-11',
      accepted: 4,
      duplicates: 0,
      rejected: [],
    });
    expect(sentIds(ingest.queue)).toEqual(['b-0001', 'b-0002', 'b-0003', 'b-0004']);
    expect(ingest.queue.sent.map((m) => [m.groupId, m.deduplicationId])).toEqual([
      ['id:E2001', 'b-0001'],
      ['id:E2002', 'b-0002'],
      ['id:E2003', 'b-0003'],
      ['id:E0999', 'b-0004'],
    ]);
    const quoted = JSON.parse(ingest.queue.sent[2]?.body ?? '') as { employee: Record<string, string> };
    expect(quoted.employee).toMatchObject({ name: "Seán O'Brien", title: 'Analyst, Senior' });
    expect(await ingest.store.get('b-0002')).toMatchObject({
      source: 'batch:onboarding-2026-11',
      status: 'queued',
      enqueued: true,
      event: { roles: ['tenant-member', 'tenant-admin'] },
    });
  });

  it('makes up a batch id when none is given', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(batch(batchCsv));

    expect(response.status).toBe(202);
    expect(response.json.batchId).toMatch(/^batch-[0-9a-f-]{36}$/);
    expect(await ingest.store.get('b-0001')).toMatchObject({
      source: `batch:${String(response.json.batchId)}`,
    });
  });

  it('accepts the valid rows and reports the invalid ones by line, the header being line 1', async () => {
    const ingest = ingestFor();
    const csv = [
      'id,type,email',
      'r-1,hire,one@example.com',
      'r-2,hire,not-an-email',
      'r-3,promote,three@example.com',
      'r-4,hire,four@example.com,extra',
      'r-5,offboard,five@example.com',
      'r-1,offboard,one@example.com',
    ].join('\n');
    const response = await ingest.call(batch(csv));

    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({ accepted: 2, duplicates: 0 });
    const rejected = response.json.rejected as { line: number; error: string }[];
    expect(rejected.map((r) => r.line)).toEqual([3, 4, 5, 7]);
    expect(rejected[0]?.error).toMatch(/email/);
    expect(rejected[1]?.error).toMatch(/type: must be one of hire, role_change, offboard/);
    expect(rejected[2]?.error).toMatch(/has 4 cells, expected 3/);
    expect(rejected[3]?.error).toMatch(/duplicate id of line 2/);
    expect(sentIds(ingest.queue)).toEqual(['r-1', 'r-5']);
    expect(await ingest.store.get('r-2')).toBeUndefined();
  });

  it('answers a resubmitted file as duplicates and enqueues nothing again', async () => {
    const ingest = ingestFor();
    await ingest.call(batch(batchCsv, 'text/csv', { batchId: 'b1' }));
    const again = await ingest.call(batch(batchCsv, 'text/csv', { batchId: 'b1' }));

    expect(again.status).toBe(202);
    expect(again.json).toEqual({ batchId: 'b1', accepted: 0, duplicates: 4, rejected: [] });
    expect(ingest.queue.sent).toHaveLength(4);
  });

  it('accepts a file above the 1 MiB /events limit', async () => {
    const ingest = ingestFor();
    const csv = csvOf(1600, 'N'.repeat(1000));
    expect(csv.length).toBeGreaterThan(1.5 * MIB);
    const response = await ingest.call(batch(csv));

    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({ accepted: 1600, rejected: [] });
    expect(ingest.queue.sent).toHaveLength(1600);
  });
});

describe('POST /batch: JSON lines', () => {
  it('accepts the sample file with lower-cased emails and their employee groups', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(batch(eventsJsonl, 'application/x-ndjson', { batchId: 'j1' }));

    expect(response.status).toBe(202);
    expect(response.json).toEqual({ batchId: 'j1', accepted: 5, duplicates: 0, rejected: [] });
    expect(sentIds(ingest.queue)).toEqual(['evt-0001', 'evt-0002', 'evt-0003', 'evt-0004', 'evt-0005']);
    expect(ingest.queue.sent[1]?.groupId).toBe('id:E1002');
    expect(ingest.queue.sent[1]?.body).toContain('"email":"grace.hopper@example.com"');
  });

  it('reports invalid lines by number and accepts the rest', async () => {
    const ingest = ingestFor();
    const lines = eventsJsonl.trim().split('\n');
    const jsonl = [
      lines[0],
      '{"id": "x", oops}',
      lines[1],
      '',
      '{"id":"evt-9","type":"hire","employee":{"id":"E9"}}',
    ].join('\n');
    const response = await ingest.call(batch(jsonl, 'application/x-ndjson'));

    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({ accepted: 2, duplicates: 0 });
    const rejected = response.json.rejected as { line: number; error: string }[];
    expect(rejected.map((r) => r.line)).toEqual([2, 5]);
    expect(rejected[0]?.error).toMatch(/invalid JSON/);
    expect(rejected[1]?.error).toMatch(/employee\.email: is required/);
    expect(sentIds(ingest.queue)).toEqual(['evt-0001', 'evt-0002']);
  });
});

describe('POST /batch: strict', () => {
  it('?strict=true with an invalid row → 422 listing the rows, nothing recorded or enqueued', async () => {
    const ingest = ingestFor();
    const csv = 'id,type,email\nr-1,hire,one@example.com\nr-2,hire,broken\n';
    const response = await ingest.call(batch(csv, 'text/csv', { strict: 'true' }));

    expect(response.status).toBe(422);
    expect(response.json).toMatchObject({ error: 'rejected_rows', rejected: [{ line: 3 }] });
    expect(response.json.message).toMatch(/nothing was accepted/);
    await expectNothingRecorded(ingest);
  });

  it('?strict=true with only valid rows accepts them all', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(batch(batchCsv, 'text/csv', { strict: 'true' }));

    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({ accepted: 4, rejected: [] });
    expect(ingest.queue.sent).toHaveLength(4);
  });

  it('strict mode applies to JSON lines too', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(
      batch(`${eventsJsonl.trim()}\nnot json\n`, 'application/x-ndjson', { strict: 'true' }),
    );

    expect(response.status).toBe(422);
    expect(response.json.rejected).toEqual([{ line: 6, error: expect.stringMatching(/invalid JSON/) }]);
    await expectNothingRecorded(ingest);
  });
});

describe('POST /batch: bad input is refused and leaves no trace', () => {
  it('a body over 5 MiB → 413', async () => {
    const ingest = ingestFor();
    const csv = csvOf(10).padEnd(5 * MIB + 1, ' ');
    const response = await ingest.call(batch(csv));

    expect(response.status).toBe(413);
    expect(response.json).toMatchObject({ error: 'body_too_large' });
    expect(response.json.message).toMatch(/5 MiB/);
    await expectNothingRecorded(ingest);
  });

  it('more than 5000 rows → 413', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(batch(csvOf(5001)));

    expect(response.status).toBe(413);
    expect(response.json).toMatchObject({ error: 'too_many_rows' });
    await expectNothingRecorded(ingest);
  });

  it.each([
    ['application/json', 'application/json'],
    ['text/plain', 'text/plain'],
    ['no content type', null],
    ['a name of an Object.prototype member', 'constructor'],
    ['__proto__', '__proto__'],
  ])('an unsupported content type (%s) → 415', async (_name, contentType) => {
    const ingest = ingestFor();
    const response = await ingest.call(batch(batchCsv, contentType));

    expect(response.status).toBe(415);
    expect(response.json).toMatchObject({
      error: 'unsupported_media_type',
      allowed: expect.arrayContaining(['text/csv', 'application/x-ndjson']),
    });
    await expectNothingRecorded(ingest);
  });

  it('a header with an unknown column → 400 naming the line and column', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(
      batch('id,type,email,favourite_colour\nr-1,hire,a@example.com,blue\n'),
    );

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'malformed_batch' });
    expect(response.json.message).toMatch(/line 1, column 4: unknown column "favourite_colour"/);
    await expectNothingRecorded(ingest);
  });

  it('an unclosed quote → 400, nothing accepted even from the rows before it', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(
      batch('id,type,email\nr-1,hire,a@example.com\nr-2,hire,"b@example.com\n'),
    );

    expect(response.status).toBe(400);
    expect(response.json.message).toMatch(/line 3/);
    await expectNothingRecorded(ingest);
  });

  it('an empty file → 400', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(batch(''));

    expect(response.status).toBe(400);
    expect(response.json.message).toMatch(/header row is required/);
    await expectNothingRecorded(ingest);
  });

  it('an invalid batchId → 400', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(batch(batchCsv, 'text/csv', { batchId: '../etc' }));

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'invalid_query' });
    await expectNothingRecorded(ingest);
  });
});

describe('POST /batch: the queue refuses', () => {
  it('503 with Retry-After; a retry enqueues every row exactly once and counts them as accepted', async () => {
    const ingest = ingestFor();
    ingest.queue.refuse = true;
    const refused = await ingest.call(batch(batchCsv, 'text/csv', { batchId: 'b1' }));

    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(ingest.queue.sent).toEqual([]);
    expect(await ingest.store.get('b-0001')).toMatchObject({ enqueued: false });

    ingest.queue.refuse = false;
    const retry = await ingest.call(batch(batchCsv, 'text/csv', { batchId: 'b1' }));
    expect(retry.status).toBe(202);
    expect(retry.json).toEqual({ batchId: 'b1', accepted: 4, duplicates: 0, rejected: [] });
    expect(sentIds(ingest.queue)).toEqual(['b-0001', 'b-0002', 'b-0003', 'b-0004']);

    const third = await ingest.call(batch(batchCsv, 'text/csv', { batchId: 'b1' }));
    expect(third.json).toMatchObject({ accepted: 0, duplicates: 4 });
    expect(ingest.queue.sent).toHaveLength(4);
  });
});
