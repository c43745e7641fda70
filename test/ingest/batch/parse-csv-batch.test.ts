import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BatchFormatError, type ParsedBatch } from '../../../functions/core/ingest/batch';
import { parseCsvBatch } from '../../../functions/core/ingest/csv';
import { CSV_COLUMNS } from '../../../functions/core/ingest/csv-file';

const receivedAt = '2026-12-01T12:00:00Z';
const batchId = 'b1';
const parse = (text: string): ParsedBatch => parseCsvBatch(text, { receivedAt, batchId });
const sample = readFileSync(new URL('../../../samples/batch.csv', import.meta.url), 'utf8');

function formatErrorOf(text: string): BatchFormatError {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof BatchFormatError) return error;
    throw error;
  }
  throw new Error('expected a BatchFormatError');
}

describe('parseCsvBatch: the sample file', () => {
  it('parses to exactly the expected events, each with its line', () => {
    const occurredAt = '2026-11-28T09:00:00.000Z';
    expect(parse(sample)).toEqual({
      accepted: [
        {
          line: 2,
          event: {
            id: 'b-0001',
            type: 'hire',
            occurredAt,
            employee: {
              id: 'E2001',
              email: 'alan.turing@example.com',
              name: 'Alan Turing',
              department: 'Research',
              title: 'Scientist',
            },
            roles: ['tenant-member'],
          },
        },
        {
          line: 3,
          event: {
            id: 'b-0002',
            type: 'hire',
            occurredAt,
            employee: {
              id: 'E2002',
              email: 'katherine.johnson@example.com',
              name: 'Katherine Johnson',
              department: 'Research',
              title: 'Mathematician',
            },
            roles: ['tenant-member', 'tenant-admin'],
          },
        },
        {
          line: 4,
          // Quoted email and a quoted title holding the delimiter; an empty roles cell leaves roles out.
          event: {
            id: 'b-0003',
            type: 'hire',
            occurredAt,
            employee: {
              id: 'E2003',
              email: "o'brien.sean@example.com",
              name: "Seán O'Brien".normalize('NFC'),
              department: 'Data',
              title: 'Analyst, Senior',
            },
          },
        },
        {
          line: 5,
          // Empty name, department, title and roles cells are fields not given.
          event: {
            id: 'b-0004',
            type: 'offboard',
            occurredAt,
            employee: { id: 'E0999', email: 'leaver@example.com' },
          },
        },
      ],
      rejected: [],
    });
  });

  it('reads the same with CRLF line ends, a byte-order mark and trailing empty lines', () => {
    const windows = `\uFEFF${sample.trimEnd().replaceAll('\n', '\r\n')}\r\n\r\n\r\n`;
    expect(parse(windows)).toEqual(parse(sample));
  });
});

describe('parseCsvBatch: line numbers', () => {
  it('numbers a row by the line it starts on, even after a quoted cell spanning lines', () => {
    const text = [
      'type,email,title',
      'hire,a@example.com,"Staff',
      'Engineer"',
      'hire,b@example.com,Designer',
      '',
      'hire,not-an-email,Writer',
    ].join('\n');
    const batch = parse(text);
    expect(batch.accepted.map((row) => [row.line, row.event.employee.title])).toEqual([
      [2, 'Staff\nEngineer'],
      [4, 'Designer'],
    ]);
    expect(batch.rejected).toEqual([{ line: 6, error: 'email: must be an email address' }]);
  });

  it('counts a CRLF inside a quoted cell as one line break', () => {
    const text = 'type,email,title\r\nhire,a@example.com,"two\r\nlines"\r\nhire,b@example.com,one\r\n';
    expect(parse(text).accepted.map((row) => row.line)).toEqual([2, 4]);
  });

  it('accepts mixed line ends in one file', () => {
    const text = 'type,email\r\nhire,a@example.com\nhire,b@example.com\r\nhire,"c@example.com"\n';
    expect(parse(text).accepted.map((row) => [row.line, row.event.employee.email])).toEqual([
      [2, 'a@example.com'],
      [3, 'b@example.com'],
      [4, 'c@example.com'],
    ]);
  });

  it('trims whitespace around cells, quoted or not', () => {
    const text = ' type , email ,title\n hire ,  "a@example.com"  , " Lead " \n';
    const [row] = parse(text).accepted;
    expect(row?.event).toMatchObject({ type: 'hire', employee: { email: 'a@example.com', title: 'Lead' } });
  });
});

describe('parseCsvBatch: the header', () => {
  it('accepts the columns in any order, case-insensitively', () => {
    const text = 'OCCURRED_AT,Email,Type,employee_id\n2026-11-28T09:00:00Z,a@example.com,hire,E1\n';
    expect(parse(text).accepted[0]?.event).toEqual({
      id: expect.stringMatching(/^csv-/),
      type: 'hire',
      occurredAt: '2026-11-28T09:00:00.000Z',
      employee: { id: 'E1', email: 'a@example.com' },
    });
  });

  it('rejects an unknown column, naming it and the known ones', () => {
    const error = formatErrorOf('type,email,favourite_colour\nhire,a@example.com,blue\n');
    expect(error).toMatchObject({ line: 1, column: 3 });
    expect(error.message).toContain('unknown column "favourite_colour"');
    expect(error.message).toContain(`known columns: ${CSV_COLUMNS.join(', ')}`);
  });

  it('rejects a missing required column', () => {
    const error = formatErrorOf('type,employee_id\nhire,E1\n');
    expect(error.line).toBe(1);
    expect(error.message).toContain('missing required column "email"');
    expect(error.message).toContain('known columns: id, type, employee_id, email');
    expect(formatErrorOf('email\na@example.com\n').message).toContain('missing required column "type"');
  });

  it('rejects a repeated or unnamed column', () => {
    expect(formatErrorOf('type,email,email\n').message).toContain('column "email" appears twice');
    expect(formatErrorOf('type,,email\n').message).toContain('column 2 has no name');
  });

  it('requires a header row', () => {
    expect(formatErrorOf('').message).toContain('a header row is required');
    expect(formatErrorOf('\n\n').message).toContain('a header row is required');
  });

  it('lists every known column', () => {
    expect(CSV_COLUMNS).toEqual([
      'id',
      'type',
      'employee_id',
      'email',
      'name',
      'department',
      'title',
      'location',
      'employment_type',
      'manager_email',
      'roles',
      'resource_roles',
      'occurred_at',
      'effective_at',
    ]);
  });
});

describe('parseCsvBatch: rejected rows', () => {
  it('names each problem by its column, not the internal path', () => {
    const text = [
      'id,type,employee_id,email,manager_email,occurred_at',
      'r1,fire,E1,a@example.com,,2026-11-28T09:00:00Z',
      'r2,hire,E2,not-an-email,boss,2026-11-28T09:00:00Z',
      'r3,hire,E3,c@example.com,,yesterday',
      'r4,hire,,,,2026-11-28T09:00:00Z',
      'r 5,,E5,e@example.com,,2026-11-28T09:00:00Z',
    ].join('\n');
    expect(parse(text)).toEqual({
      accepted: [],
      rejected: [
        { line: 2, error: 'type: must be one of hire, role_change, offboard' },
        { line: 3, error: 'email: must be an email address; manager_email: must be an email address' },
        {
          line: 4,
          error: 'occurred_at: must be an ISO-8601 date-time with a zone, e.g. 2026-11-29T09:00:00Z',
        },
        // The employee id falls back to the (missing) email, so the problem is reported once, as the email's.
        { line: 5, error: 'email: is required' },
        {
          line: 6,
          error:
            'id: must be printable ASCII without spaces; type: must be one of hire, role_change, offboard',
        },
      ],
    });
  });

  it('names a missing employee id when the employee_id column is there but the email is empty too', () => {
    // An empty employee_id cell falls back to the email like a missing column does.
    const batch = parse('type,employee_id,email\nhire,,a@example.com\nhire,E2,\n');
    expect(batch.accepted[0]?.event.employee).toEqual({ id: 'a@example.com', email: 'a@example.com' });
    expect(batch.rejected).toEqual([{ line: 3, error: 'email: is required' }]);
  });

  it('rejects a row with the wrong number of cells and goes on with the next', () => {
    const text = 'type,email,name\nhire,a@example.com\nhire,b@example.com,B,extra\nhire,c@example.com,C\n';
    const batch = parse(text);
    expect(batch.rejected).toEqual([
      { line: 2, error: 'has 2 cells, expected 3 (one per header column)' },
      { line: 3, error: 'has 4 cells, expected 3 (one per header column)' },
    ]);
    expect(batch.accepted.map((row) => row.line)).toEqual([4]);
  });

  it('skips blank rows, including rows of empty cells', () => {
    const batch = parse('type,email\n\n,\n  \nhire,a@example.com\n');
    expect(batch.rejected).toEqual([]);
    expect(batch.accepted.map((row) => row.line)).toEqual([5]);
  });

  it('rejects the second row with an id already used, naming the first line', () => {
    const text = 'id,type,email\nx1,hire,a@example.com\nx2,hire,b@example.com\nx1,offboard,a@example.com\n';
    const batch = parse(text);
    expect(batch.accepted.map((row) => row.event.id)).toEqual(['x1', 'x2']);
    expect(batch.rejected).toEqual([{ line: 4, error: 'duplicate id of line 2 (x1)' }]);
  });
});

describe('parseCsvBatch: broken quoting', () => {
  it('throws BatchFormatError at the line and column where an unclosed quote starts', () => {
    const error = formatErrorOf(
      'type,email,name\nhire,a@example.com,A\nhire,b@example.com,"B\nhire,c@example.com,C\n',
    );
    expect(error).toMatchObject({ line: 3, column: 3 });
    expect(error.message).toMatch(/^line 3, column 3: a quoted cell is never closed/);
  });

  it('counts the lines of earlier multi-line cells when placing the error', () => {
    const text = 'type,email,title\r\nhire,a@example.com,"two\r\nlines"\r\n\r\nhire,"b@example.com,B\r\n';
    expect(formatErrorOf(text)).toMatchObject({ line: 5, column: 2 });
    expect(formatErrorOf('type,"email\n')).toMatchObject({ line: 1, column: 2 });
  });

  it('throws BatchFormatError for a quote inside an unquoted cell or text after a closing quote', () => {
    expect(formatErrorOf('type,email,name\nhire,a@example.com,Ada "The" L\n')).toMatchObject({
      line: 2,
      column: 3,
    });
    expect(formatErrorOf('type,email,name\nhire,"a@example.com"x,A\n')).toMatchObject({ line: 2, column: 2 });
  });
});

describe('parseCsvBatch: defaults', () => {
  it('derives a stable id from the row content when id is empty or absent', () => {
    const withColumn = 'id,type,employee_id,email,roles\n,hire,E1,Ada@Example.com,tenant-member\n';
    const withoutColumn = 'type,employee_id,email,roles\nhire,E1,ada@example.com,tenant-member\n';
    const first = parse(withColumn).accepted[0]?.event.id;
    expect(first).toMatch(/^csv-b1-[0-9a-f]{24}$/);
    expect(parse(withColumn).accepted[0]?.event.id).toBe(first);
    // The email is compared lower-cased and the column layout does not matter.
    expect(parse(withoutColumn).accepted[0]?.event.id).toBe(first);
    // The receipt time is not part of it: resuming the upload later (same batch) gives the same ids.
    const later = parseCsvBatch(withColumn, { receivedAt: '2027-01-01T00:00:00Z', batchId });
    expect(later.accepted[0]?.event.id).toBe(first);
  });

  it('derives another id for the same row in another batch: uploading it again is a new instruction', () => {
    const text = 'type,email\noffboard,a@example.com\n';
    const first = parseCsvBatch(text, { receivedAt, batchId: 'b1' }).accepted[0];
    const again = parseCsvBatch(text, { receivedAt, batchId: 'b2' }).accepted[0];
    expect(first?.event.id).toMatch(/^csv-b1-[0-9a-f]{24}$/);
    expect(again?.event.id).toMatch(/^csv-b2-[0-9a-f]{24}$/);
  });

  it('marks a row whose id was derived or whose occurred_at is the receipt time', () => {
    const batch = parse(
      'id,type,email,occurred_at\n,hire,a@example.com,\nx1,hire,b@example.com,2026-11-28T09:00:00Z\n',
    );
    expect(
      batch.accepted.map(({ derivedId, occurredAtDefaulted }) => ({ derivedId, occurredAtDefaulted })),
    ).toEqual([
      { derivedId: true, occurredAtDefaulted: true },
      { derivedId: undefined, occurredAtDefaulted: undefined },
    ]);
  });

  it('keeps every derived id printable ASCII and at most 128 characters, even for a 64-character batch id', () => {
    const longest = 'b'.repeat(64);
    const [row] = parseCsvBatch('type,email\nhire,a@example.com\n', {
      receivedAt,
      batchId: longest,
    }).accepted;
    expect(row?.event.id).toMatch(/^[\x21-\x7e]{1,128}$/);
  });

  it('derives different ids for rows that differ in type, employee, email, roles or occurred_at', () => {
    const text = [
      'type,employee_id,email,roles,resource_roles,occurred_at',
      'hire,E1,a@example.com,tenant-member,,',
      'role_change,E1,a@example.com,tenant-member,,',
      'hire,E2,a@example.com,tenant-member,,',
      'hire,E1,b@example.com,tenant-member,,',
      'hire,E1,a@example.com,tenant-admin,,',
      'hire,E1,a@example.com,,,',
      'hire,E1,a@example.com,tenant-member,workspace:viewer,',
      'hire,E1,a@example.com,tenant-member,,2026-11-28T09:00:00Z',
    ].join('\n');
    const batch = parse(text);
    expect(batch.rejected).toEqual([]);
    expect(new Set(batch.accepted.map((row) => row.event.id)).size).toBe(8);
  });

  it('treats rows that differ only in name or title as the same event (a duplicate)', () => {
    const batch = parse('type,email,title\nhire,a@example.com,Engineer\nhire,a@example.com,Lead\n');
    expect(batch.rejected).toEqual([{ line: 3, error: expect.stringMatching(/^duplicate id of line 2 /) }]);
  });

  it('uses the time the file was received when occurred_at is empty or absent', () => {
    const expected = '2026-12-01T12:00:00.000Z';
    expect(parse('type,email\nhire,a@example.com\n').accepted[0]?.event.occurredAt).toBe(expected);
    expect(parse('type,email,occurred_at\nhire,a@example.com,\n').accepted[0]?.event.occurredAt).toBe(
      expected,
    );
  });
});

describe('parseCsvBatch: role cells', () => {
  it('splits roles on ";" and drops empty pieces', () => {
    const batch = parse('type,email,roles\nhire,a@example.com," tenant-member ; tenant-admin ;"\n');
    expect(batch.accepted[0]?.event.roles).toEqual(['tenant-member', 'tenant-admin']);
  });

  it('reads resource_roles as type:role;role entries separated by "|"', () => {
    const text = 'type,email,resource_roles\nhire,a@example.com,workspace:viewer;editor | cluster : admin|\n';
    expect(parse(text).accepted[0]?.event.resourceRoles).toEqual([
      { resourceType: 'workspace', roles: ['viewer', 'editor'] },
      { resourceType: 'cluster', roles: ['admin'] },
    ]);
  });

  it('rejects a resource_roles entry without a resource type', () => {
    const batch = parse('type,email,resource_roles\nhire,a@example.com,viewer\nhire,b@example.com,:admin\n');
    expect(batch.rejected).toEqual([
      {
        line: 2,
        error: 'resource_roles: "viewer" must be <resource type>:<role>;<role>, entries separated by |',
      },
      {
        line: 3,
        error: 'resource_roles: ":admin" must be <resource type>:<role>;<role>, entries separated by |',
      },
    ]);
  });

  it('reports a resource_roles problem together with the other problems of the row', () => {
    const batch = parse('type,email,resource_roles\nfire,a@example.com,viewer\n');
    expect(batch.rejected[0]?.error).toBe(
      'resource_roles: "viewer" must be <resource type>:<role>;<role>, entries separated by |; ' +
        'type: must be one of hire, role_change, offboard',
    );
  });
});

describe('parseCsvBatch: size', () => {
  it('parses 10 000 rows', () => {
    const rows = Array.from(
      { length: 10_000 },
      (_, i) =>
        `hire,E${i},user${i}@example.com,"User ${i}",tenant-member;tenant-viewer,2026-11-28T09:00:00Z`,
    );
    const batch = parse(['type,employee_id,email,name,roles,occurred_at', ...rows].join('\n'));
    expect(batch.rejected).toEqual([]);
    expect(batch.accepted).toHaveLength(10_000);
    expect(batch.accepted.at(-1)).toMatchObject({ line: 10_001, event: { employee: { id: 'E9999' } } });
    expect(new Set(batch.accepted.map((row) => row.event.id)).size).toBe(10_000);
  });
});
