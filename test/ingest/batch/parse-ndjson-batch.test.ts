import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNdjsonBatch } from '../../../functions/core/ingest/ndjson';

const receivedAt = '2026-12-01T12:00:00Z';
const batchId = 'b1';
const sample = readFileSync(new URL('../../../samples/events.jsonl', import.meta.url), 'utf8');
const event = (id: string, email = 'a@example.com') =>
  JSON.stringify({ id, type: 'hire', occurredAt: '2026-11-28T09:00:00Z', employee: { id: 'E1', email } });

describe('parseNdjsonBatch', () => {
  it('parses the sample events, normalised, with their lines', () => {
    const batch = parseNdjsonBatch(sample, { receivedAt, batchId });
    expect(batch.rejected).toEqual([]);
    expect(batch.accepted.map((row) => [row.line, row.event.id])).toEqual([
      [1, 'evt-0001'],
      [2, 'evt-0002'],
      [3, 'evt-0003'],
      [4, 'evt-0004'],
      [5, 'evt-0005'],
    ]);
    expect(batch.accepted[1]?.event).toEqual({
      id: 'evt-0002',
      type: 'hire',
      occurredAt: '2026-11-02T09:05:00.000Z',
      employee: {
        id: 'E1002',
        email: 'grace.hopper@example.com',
        name: 'Grace Hopper',
        department: 'Infrastructure',
        title: 'Principal Engineer',
      },
    });
  });

  it('skips blank lines but keeps counting them, with CRLF and a byte-order mark', () => {
    const text = `\uFEFF${event('e1')}\r\n\r\n   \r\n${event('e2')}\r\n\r\n`;
    const batch = parseNdjsonBatch(text, { receivedAt, batchId });
    expect(batch.rejected).toEqual([]);
    expect(batch.accepted.map((row) => [row.line, row.event.id])).toEqual([
      [1, 'e1'],
      [4, 'e2'],
    ]);
  });

  it('rejects a line that is not JSON with the parse message and goes on', () => {
    const text = [event('e1'), '{"id": "e2", ', event('e3')].join('\n');
    const batch = parseNdjsonBatch(text, { receivedAt, batchId });
    expect(batch.accepted.map((row) => row.line)).toEqual([1, 3]);
    expect(batch.rejected).toEqual([{ line: 2, error: expect.stringMatching(/^invalid JSON: .+/) }]);
  });

  it('rejects a line that is not a valid event, describing each issue', () => {
    const text = [
      event('e1'),
      JSON.stringify({
        id: 'e2',
        type: 'fire',
        occurredAt: '2026-11-28T09:00:00Z',
        employee: { email: 'x' },
      }),
      '[1, 2]',
    ].join('\n');
    expect(parseNdjsonBatch(text, { receivedAt, batchId }).rejected).toEqual([
      {
        line: 2,
        error:
          'type: must be one of hire, role_change, offboard; employee.id: is required; ' +
          'employee.email: must be an email address',
      },
      { line: 3, error: 'must be an object (got an array)' },
    ]);
  });

  it('rejects a repeated id, naming the first line', () => {
    const text = [event('e1'), event('e2'), event('e1', 'b@example.com')].join('\n');
    expect(parseNdjsonBatch(text, { receivedAt, batchId }).rejected).toEqual([
      { line: 3, error: 'duplicate id of line 1 (e1)' },
    ]);
  });

  it('uses the time the file was received when an event has no occurredAt', () => {
    const text = JSON.stringify({
      id: 'e1',
      type: 'offboard',
      employee: { id: 'E1', email: 'a@example.com' },
    });
    expect(parseNdjsonBatch(text, { receivedAt, batchId }).accepted[0]?.event.occurredAt).toBe(
      '2026-12-01T12:00:00.000Z',
    );
  });

  it('marks a line whose occurredAt is the receipt time, which a resumed upload receives again later', () => {
    const text = [
      JSON.stringify({ id: 'e1', type: 'offboard', employee: { id: 'E1', email: 'a@example.com' } }),
      event('e2'),
    ].join('\n');
    const batch = parseNdjsonBatch(text, { receivedAt, batchId });
    expect(batch.accepted.map((row) => row.occurredAtDefaulted)).toEqual([true, undefined]);
  });
});
