import { describe, expect, it } from 'vitest';
import { chunkBatch, chunkBody, readBatchFile } from '../../bin/cli/batch/batch-file';
import { parseCsvBatch } from '../../functions/core/ingest/csv';
import { parseNdjsonBatch } from '../../functions/core/ingest/ndjson';

const RECEIVED = { receivedAt: '2026-11-29T09:00:00Z', batchId: 'b1' };

/** Every chunk, parsed as the server parses it, with its rejected lines mapped back to the file. */
function serverViewOfChunks(name: string, text: string, chunkRows: number) {
  const { file } = readBatchFile(name, Buffer.from(text));
  const parse = file.format === 'csv' ? parseCsvBatch : parseNdjsonBatch;
  return chunkBatch(file, chunkRows, name).map((chunk) => {
    const { body, originalLine } = chunkBody(file, chunk);
    const parsed = parse(body, RECEIVED);
    return {
      body,
      accepted: parsed.accepted.map((row) => ({ line: originalLine(row.line), id: row.event.id })),
      rejected: parsed.rejected.map((row) => originalLine(row.line)),
    };
  });
}

describe('splitting a batch file into chunks', () => {
  it('repeats the CSV header in every chunk and keeps a quoted cell with line breaks in one record', () => {
    const csv = [
      '\uFEFFid,type,email,title', // 1
      'c1,hire,c1@example.com,"Staff', // 2
      'Engineer, ""ML""', // 3
      'Platform"', // 4
      '', // 5 blank: skipped
      'c2,hire,not-an-email,Analyst', // 6
      'c3,hire,c3@example.com,Scientist', // 7
    ].join('\r\n');

    const chunks = serverViewOfChunks('people.csv', csv, 1);

    expect(chunks).toHaveLength(3);
    for (const chunk of chunks) expect(chunk.body.startsWith('id,type,email,title\r\n')).toBe(true);
    expect(chunks[0]!.accepted).toEqual([{ line: 2, id: 'c1' }]);
    expect(chunks[1]!.rejected).toEqual([6]);
    expect(chunks[2]!.accepted).toEqual([{ line: 7, id: 'c3' }]);
  });

  it('maps the same lines as parsing the whole file does, whatever the chunk size', () => {
    const rows = ['id,type,email,name'];
    for (let i = 1; i <= 40; i++) {
      const name = i % 7 === 0 ? `"Multi\nLine ${i}"` : `Person ${i}`;
      const email = i % 5 === 0 ? 'broken' : `p${i}@example.com`;
      rows.push(`r${i},hire,${email},${name}`);
      if (i % 9 === 0) rows.push(',,,');
    }
    const csv = rows.join('\n');
    const whole = parseCsvBatch(csv, RECEIVED);

    for (const size of [1, 3, 7, 40]) {
      const chunks = serverViewOfChunks('many.csv', csv, size);
      expect(chunks.flatMap((c) => c.rejected)).toEqual(whole.rejected.map((r) => r.line));
      expect(chunks.flatMap((c) => c.accepted)).toEqual(
        whole.accepted.map((r) => ({ line: r.line, id: r.event.id })),
      );
    }
  });

  it('handles mixed line ends and a last row without a line break', () => {
    const csv = 'id,type,email\na1,hire,a1@example.com\r\na2,hire,a2@example.com\ra3,hire,bad';

    const chunks = serverViewOfChunks('mixed.csv', csv, 2);

    expect(chunks.map((c) => c.accepted.map((a) => a.line))).toEqual([[2, 3], []]);
    expect(chunks[1]!.rejected).toEqual([4]);
  });

  it('chunks JSON Lines by line, skipping blank lines', () => {
    const line = (id: string, email: string) =>
      JSON.stringify({ id, type: 'offboard', occurredAt: '2026-11-29T09:00:00Z', employee: { id, email } });
    const ndjson = [
      '',
      line('n1', 'n1@example.com'),
      '  ',
      line('n2', 'nope'),
      line('n3', 'n3@example.com'),
    ].join('\n');

    const chunks = serverViewOfChunks('events.jsonl', ndjson, 2);

    expect(chunks).toHaveLength(2);
    expect(chunks[0]!.accepted).toEqual([{ line: 2, id: 'n1' }]);
    expect(chunks[0]!.rejected).toEqual([4]);
    expect(chunks[1]!.accepted).toEqual([{ line: 5, id: 'n3' }]);
  });

  it('refuses a file whose quoting is broken, naming the line where the broken record starts', () => {
    const csv = 'id,type,email,name\nq1,hire,q1@example.com,Ann\nq2,hire,q2@example.com,"Bob\n';

    expect(() => readBatchFile('broken.csv', Buffer.from(csv))).toThrow(
      /broken\.csv: line 3.*a quoted cell is never closed.*nothing was sent/,
    );
  });

  it('refuses a file with an unknown header before sending anything', () => {
    expect(() => readBatchFile('head.csv', Buffer.from('id,type,mail\nx,hire,x@example.com\n'))).toThrow(
      /head\.csv: line 1.*unknown column "mail"/,
    );
  });
});
