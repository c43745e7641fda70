import type { CanonicalEvent } from '../events/canonical-event';
import { describeIssue } from '../events/validation-issues';
import type { RejectedRow } from '../ingest/batch';
import { BatchFormatError } from '../ingest/batch';
import { columnOfCanonicalPath, csvRowToEvent } from '../ingest/csv';
import { type CsvRecord, readCsvHeader, readCsvRecords } from '../ingest/csv-file';
import { checkDomain, checkExplicitRoles, type Policy } from '../policy/policy';

/*
 * The roster: everyone who should have access to TrueFoundry, as a batch CSV (the same columns, the same
 * cell rules, the same parser). Each row is read as the hire it would be, so the roles it asks for are
 * worked out exactly as the worker would work them out. The `type` column may be left out; when given, it
 * must say `hire`.
 */

/** One person of the roster: the hire their row stands for, and the line it came from. */
export type RosterEntry = { line: number; event: CanonicalEvent };

export type ParsedRoster = { entries: RosterEntry[]; rejected: RejectedRow[] };

/** The source reconciliation's events are recorded under, and the policy checks them as. */
export const RECONCILE_SOURCE = 'reconcile';

const ROSTER_TYPE = 'hire';

/**
 * Reads a roster. Every bad row is reported with its line (the caller refuses the whole roster then: a
 * roster with a hole would make the person on that row an orphan); an unreadable file throws
 * BatchFormatError. Rows the policy would refuse (roles above the ceiling, a domain not allowed) are bad
 * rows too; protected accounts are not, since listing an admin in a roster is no mistake (the policy keeps
 * the pipeline from touching them when the report is applied).
 */
export function parseRoster(text: string, receivedAt: string, policy: Policy | undefined): ParsedRoster {
  const records = readCsvRecords(text);
  const headerIndex = records.findIndex((record) => !isBlank(record));
  if (headerIndex === -1) throw new BatchFormatError('the roster is empty; a header row is required');
  const headerRecord = records[headerIndex]!;
  const width = headerRecord.cells.length;
  const hasType = headerRecord.cells.some((cell) => cell.trim().toLowerCase() === 'type');
  // Without a type column every row is a hire: the type cell is added after the row's own cells.
  const header = readCsvHeader(
    hasType ? headerRecord : { ...headerRecord, cells: [...headerRecord.cells, 'type'] },
  );

  const entries: RosterEntry[] = [];
  const rejected: RejectedRow[] = [];
  const lineOfEmail = new Map<string, number>();
  const lineOfEmployee = new Map<string, number>();
  for (const record of records.slice(headerIndex + 1)) {
    if (isBlank(record)) continue;
    if (record.cells.length !== width) {
      rejected.push({
        line: record.line,
        error: `has ${record.cells.length} cells, expected ${width} (one per header column)`,
      });
      continue;
    }
    const cells = hasType ? record.cells : [...record.cells, ROSTER_TYPE];
    const row = csvRowToEvent(cells, header, { receivedAt, batchId: 'roster' });
    if (!row.ok) {
      rejected.push({ line: record.line, error: row.error });
      continue;
    }
    const event = row.row.event;
    const problem = rowProblem(event, policy, lineOfEmail, lineOfEmployee);
    if (problem !== undefined) {
      rejected.push({ line: record.line, error: problem });
      continue;
    }
    lineOfEmail.set(event.employee.email, record.line);
    lineOfEmployee.set(event.employee.id, record.line);
    entries.push({ line: record.line, event });
  }
  return { entries, rejected };
}

function rowProblem(
  event: CanonicalEvent,
  policy: Policy | undefined,
  lineOfEmail: ReadonlyMap<string, number>,
  lineOfEmployee: ReadonlyMap<string, number>,
): string | undefined {
  if (event.type !== ROSTER_TYPE) {
    return `type: a roster lists the people who should have access; leave type out or write hire (got ${event.type})`;
  }
  const emailLine = lineOfEmail.get(event.employee.email);
  if (emailLine !== undefined) return `email: ${event.employee.email} is also on line ${emailLine}`;
  // Two emails for one employee: which account should stay is for HR to say, not for a guess.
  const employeeLine = lineOfEmployee.get(event.employee.id);
  if (employeeLine !== undefined) return `employee_id: ${event.employee.id} is also on line ${employeeLine}`;
  if (!policy) return undefined;
  const domain = checkDomain(policy, event.employee.email);
  const issues = [...checkExplicitRoles(policy, event, RECONCILE_SOURCE), ...(domain ? [domain] : [])];
  // Named by column, as the uploader sees the file.
  const byColumn = issues.map((issue) => ({
    ...issue,
    path: columnOfCanonicalPath(issue.path) ?? issue.path,
  }));
  return issues.length > 0 ? `refused by policy: ${byColumn.map(describeIssue).join('; ')}` : undefined;
}

const isBlank = (record: CsvRecord): boolean => record.cells.every((cell) => cell.trim() === '');
