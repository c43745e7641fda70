import { describe, expect, it } from 'vitest';
import { DERIVED_ID_PREFIXES, reservedIdIssue } from '../../functions/core/ingest/sender-rules';
import { bearer, hireEvent, ingestFor, jsonRequest } from '../support/ingest-harness';
import { expectNoSecretsInResponses, expectNothingRecorded, sentIds } from './ingest-assertions';

expectNoSecretsInResponses();

function batch(body: string, contentType: string, query: Record<string, string> = {}) {
  return {
    method: 'POST',
    path: '/batch',
    query,
    headers: { ...bearer(), 'content-type': contentType },
    body: Buffer.from(body),
  };
}

describe('reserved id prefixes', () => {
  it('one per source that derives ids, and one kept for reconciliation', () => {
    expect(DERIVED_ID_PREFIXES).toEqual({ batch: 'csv-', bamboohr: 'bamboohr-', reconcile: 'reconcile-' });
  });

  it('names the id and whose ids the prefix is for', () => {
    expect(reservedIdIssue('csv-b1-0123')?.message).toMatch(/^"csv-b1-0123" starts with "csv-", .*batch/);
    expect(reservedIdIssue('bamboohr-4021-updated-x')?.message).toMatch(/BambooHR/);
    expect(reservedIdIssue('reconcile-1')?.message).toMatch(/reconciliation/);
    // Ids compare exactly, so another spelling cannot meet a derived id.
    expect(reservedIdIssue('CSV-1')).toBeUndefined();
    expect(reservedIdIssue('evt-csv-1')).toBeUndefined();
    expect(reservedIdIssue('bamboohr')).toBeUndefined();
  });
});

describe('POST /events: an id in a derived namespace', () => {
  it.each([
    ['a batch row', 'csv-b1-0123456789abcdef01234567'],
    ['BambooHR', 'bamboohr-4021-updated-0123456789abcdef'],
    ['reconciliation', 'reconcile-E1001'],
  ])('one that %s would derive → 400 naming the id, nothing recorded', async (_source, id) => {
    const ingest = ingestFor();
    const response = await ingest.call(jsonRequest('/events', [hireEvent('evt-0'), hireEvent(id)]));

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'invalid_event' });
    expect(response.json.issues).toEqual([
      {
        event: 1,
        path: '[1].id',
        message: expect.stringMatching(new RegExp(`^"${id}" starts with .*reserved`)),
      },
    ]);
    await expectNothingRecorded(ingest);
  });
});

describe('POST /batch: an id column in a derived namespace', () => {
  it('rejects the CSV row by its line, naming the id, whichever source the prefix belongs to', async () => {
    const ingest = ingestFor();
    const csv = [
      'id,type,email',
      'r-1,hire,one@example.com',
      'bamboohr-4021-updated-0123456789abcdef,hire,two@example.com',
      // A batch's derived ids are per batch: an explicit one could claim another batch's row.
      'csv-other-0123456789abcdef01234567,hire,three@example.com',
      ',hire,four@example.com',
    ].join('\n');
    const response = await ingest.call(batch(csv, 'text/csv', { batchId: 'b1' }));

    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({ accepted: 2 });
    expect(response.json.rejected).toEqual([
      { line: 3, error: expect.stringMatching(/^id: "bamboohr-4021-updated-0123456789abcdef" starts with/) },
      { line: 4, error: expect.stringMatching(/^id: "csv-other-0123456789abcdef01234567" starts with/) },
    ]);
    expect(sentIds(ingest.queue)).toEqual(['r-1', expect.stringMatching(/^csv-b1-[0-9a-f]{24}$/)]);
  });

  it('strict mode rejects the whole CSV file, nothing recorded', async () => {
    const ingest = ingestFor();
    const csv = 'id,type,email\nr-1,hire,one@example.com\nreconcile-2,hire,two@example.com\n';
    const response = await ingest.call(batch(csv, 'text/csv', { strict: 'true' }));

    expect(response.status).toBe(422);
    expect(response.json.rejected).toEqual([
      { line: 3, error: expect.stringMatching(/^id: "reconcile-2" starts with "reconcile-"/) },
    ]);
    await expectNothingRecorded(ingest);
  });

  it('rejects a JSON line by its line, naming the id', async () => {
    const ingest = ingestFor();
    const jsonl = [hireEvent('j-1'), hireEvent('csv-j-2')].map((e) => JSON.stringify(e)).join('\n');
    const response = await ingest.call(batch(jsonl, 'application/x-ndjson'));

    expect(response.status).toBe(202);
    expect(response.json.rejected).toEqual([
      { line: 2, error: expect.stringMatching(/^id: "csv-j-2" starts with "csv-"/) },
    ]);
    expect(sentIds(ingest.queue)).toEqual(['j-1']);
    expect(await ingest.store.get('csv-j-2')).toBeUndefined();
  });
});
