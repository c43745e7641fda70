import { createHash } from 'node:crypto';
import { parseCanonicalEvent, type ResourceRoles } from '../events/canonical-event';
import { describeIssue, type ValidationIssue } from '../events/validation-issues';
import type { Submission } from './accept-events';
import { BatchCollector, BatchFormatError, type BatchParseOptions, type ParsedBatch } from './batch';
import {
  CSV_COLUMNS,
  type CsvColumn,
  type CsvHeader,
  type CsvRecord,
  readCsvHeader,
  readCsvRecords,
} from './csv-file';
import { DERIVED_ID_PREFIXES, senderRuleIssues } from './sender-rules';

/*
 * Batch onboarding CSV to canonical events: each row one event, its cells in the columns an HR admin
 * knows, every problem named by its column. The file's structure (records, header) is csv-file.ts.
 */

/**
 * Reads a batch onboarding CSV: a header row naming known columns (any order), then one event per row.
 * Bad rows are rejected one by one with their line; a file that cannot be read at all (bad header,
 * broken quoting) throws BatchFormatError.
 */
export function parseCsvBatch(text: string, options: BatchParseOptions): ParsedBatch {
  const records = readCsvRecords(text);
  const headerIndex = records.findIndex((record) => !isBlank(record));
  if (headerIndex === -1) {
    throw new BatchFormatError(
      `the file is empty; a header row is required, known columns: ${CSV_COLUMNS.join(', ')}`,
    );
  }
  const header = readCsvHeader(records[headerIndex]!);
  const batch = new BatchCollector();
  for (let index = headerIndex + 1; index < records.length; index++) {
    const record = records[index]!;
    // Blank lines (trailing ones, or spreadsheet rows of only commas) carry nothing to reject.
    if (isBlank(record)) continue;
    if (record.cells.length !== header.width) {
      batch.reject(
        record.line,
        `has ${record.cells.length} cells, expected ${header.width} (one per header column)`,
      );
      continue;
    }
    const row = csvRowToEvent(record.cells, header, options);
    if (row.ok) batch.accept(record.line, row.row);
    else batch.reject(record.line, row.error);
  }
  return batch.result();
}

const isBlank = (record: CsvRecord): boolean => record.cells.every((cell) => cell.trim() === '');

export type CsvRowResult = { ok: true; row: Submission } | { ok: false; error: string };

/**
 * Turns one data row into a canonical event. Empty cells are fields not given. Defaults: `id` derived
 * from the row's content and the batch, `employee_id` the email, `occurred_at` the time the file was
 * received. Every problem is named by its column, as the uploader sees the file.
 */
export function csvRowToEvent(
  cells: readonly string[],
  header: CsvHeader,
  { receivedAt, batchId }: BatchParseOptions,
): CsvRowResult {
  const cell = (column: CsvColumn) => header.cell(cells, column);
  const issues: ValidationIssue[] = [];

  const rolesCell = cell('roles');
  // An empty roles cell leaves roles out, so the role-mapping rules decide them.
  const roles = rolesCell === undefined ? undefined : parseRolesCell(rolesCell);
  const resourceRolesCell = cell('resource_roles');
  const parsedResourceRoles =
    resourceRolesCell === undefined ? undefined : parseResourceRolesCell(resourceRolesCell);
  if (parsedResourceRoles?.ok === false) {
    issues.push({ path: 'resource_roles', message: parsedResourceRoles.message });
  }
  const resourceRoles = parsedResourceRoles?.ok ? parsedResourceRoles.resourceRoles : undefined;

  const id = cell('id');
  const type = cell('type');
  const email = cell('email');
  const employeeIdCell = cell('employee_id');
  const employeeId = employeeIdCell ?? email?.toLowerCase();
  const occurredAt = cell('occurred_at');
  const effectiveAt = cell('effective_at');

  const result = parseCanonicalEvent({
    id:
      id ??
      deriveCsvEventId({ type, employeeId, email, roles, resourceRoles, occurredAt, effectiveAt }, batchId),
    type,
    occurredAt: occurredAt ?? receivedAt,
    effectiveAt,
    employee: {
      id: employeeId,
      email,
      name: cell('name'),
      department: cell('department'),
      title: cell('title'),
      location: cell('location'),
      employmentType: cell('employment_type'),
      managerEmail: cell('manager_email'),
    },
    roles,
    resourceRoles,
  });
  const schemaIssues = result.ok ? [] : result.issues;
  const ruleIssues = senderRuleIssues({ id, occurredAt, effectiveAt }, Date.parse(receivedAt), schemaIssues);
  if (result.ok && issues.length === 0 && ruleIssues.length === 0) {
    const row: Submission = {
      event: result.event,
      ...(id === undefined ? { derivedId: true } : {}),
      ...(occurredAt === undefined ? { occurredAtDefaulted: true } : {}),
    };
    return { ok: true, row };
  }
  // When the employee id is the email, a problem with it is a problem with the email cell.
  const employeeIdColumn: CsvColumn = employeeIdCell === undefined ? 'email' : 'employee_id';
  for (const issue of [...schemaIssues, ...ruleIssues]) issues.push(namedByColumn(issue, employeeIdColumn));
  // A missing email is reported once even when the employee id fell back to it.
  return { ok: false, error: [...new Set(issues.map(describeIssue))].join('; ') };
}

function namedByColumn(issue: ValidationIssue, employeeIdColumn: CsvColumn): ValidationIssue {
  if (issue.path === 'employee.id') return { ...issue, path: employeeIdColumn };
  return { ...issue, path: columnOfCanonicalPath(issue.path) ?? issue.path };
}

/**
 * Where each column's value lands in the canonical event. Read backwards it names a validation issue by
 * the column an HR admin can fix in the spreadsheet instead of by the internal path.
 */
const CANONICAL_PATH_OF_COLUMN: Readonly<Record<CsvColumn, string>> = {
  id: 'id',
  type: 'type',
  employee_id: 'employee.id',
  email: 'employee.email',
  name: 'employee.name',
  department: 'employee.department',
  title: 'employee.title',
  location: 'employee.location',
  employment_type: 'employee.employmentType',
  manager_email: 'employee.managerEmail',
  roles: 'roles',
  resource_roles: 'resourceRoles',
  occurred_at: 'occurredAt',
  effective_at: 'effectiveAt',
};

const COLUMN_OF_CANONICAL_PATH = new Map(
  Object.entries(CANONICAL_PATH_OF_COLUMN).map(([column, path]) => [path, column as CsvColumn]),
);

/** The column behind a canonical issue path (`employee.email` → `email`, `roles.1` → `roles`), if any. */
export function columnOfCanonicalPath(path: string): CsvColumn | undefined {
  // Longest prefix first: `employee.email` before a hypothetical `employee`.
  for (let end = path.length; end > 0; end = path.lastIndexOf('.', end - 1)) {
    const column = COLUMN_OF_CANONICAL_PATH.get(path.slice(0, end));
    if (column !== undefined) return column;
  }
  return undefined;
}

const ROLE_SEPARATOR = ';';
const RESOURCE_SEPARATOR = '|';
const TYPE_SEPARATOR = ':';

/**
 * `roles` cell: role names separated by `;`, e.g. `tenant-member;tenant-admin`. Empty pieces (a trailing
 * `;` from a spreadsheet formula) are dropped; the canonical parse removes repeats.
 */
export function parseRolesCell(cell: string): string[] {
  return cell
    .split(ROLE_SEPARATOR)
    .map((role) => role.trim())
    .filter((role) => role !== '');
}

export type ResourceRolesCell = { ok: true; resourceRoles: ResourceRoles } | { ok: false; message: string };

/**
 * `resource_roles` cell: one entry per resource type, entries separated by `|`, each entry
 * `<resource type>:<role>;<role>`. Example: `workspace:viewer;editor|cluster:admin` gives
 * `[{ resourceType: 'workspace', roles: ['viewer', 'editor'] }, { resourceType: 'cluster', roles: ['admin'] }]`.
 * `workspace:` (no roles) is kept as an empty list. `|` and `:` were chosen because `;` already separates
 * roles and `,` would need quoting in a CSV cell.
 */
export function parseResourceRolesCell(cell: string): ResourceRolesCell {
  const resourceRoles: ResourceRoles = [];
  for (const entry of cell.split(RESOURCE_SEPARATOR)) {
    if (entry.trim() === '') continue;
    const colon = entry.indexOf(TYPE_SEPARATOR);
    const resourceType = colon === -1 ? '' : entry.slice(0, colon).trim();
    if (resourceType === '') {
      return {
        ok: false,
        message: `"${entry.trim()}" must be <resource type>:<role>;<role>, entries separated by |`,
      };
    }
    resourceRoles.push({ resourceType, roles: parseRolesCell(entry.slice(colon + 1)) });
  }
  return { ok: true, resourceRoles };
}

/** What makes two CSV rows the same event; the other cells describe the person, not the event. */
export type CsvEventContent = {
  type: string | undefined;
  employeeId: string | undefined;
  email: string | undefined;
  roles: readonly string[] | undefined;
  resourceRoles: readonly { resourceType: string; roles: readonly string[] }[] | undefined;
  /** Only when the row gives one: the receipt time changes when an upload resumes, and must still dedupe. */
  occurredAt: string | undefined;
  /** Only when the row gives one (optional, so ids of rows without it stay as they were). */
  effectiveAt?: string | undefined;
};

/**
 * A stable id for a row that has none: `csv-<batch id>-<24 hex>`, at most 93 printable ASCII characters.
 * Within one batch the same row gets the same id, so a resumed upload (the CLI sends the same batch id)
 * drops the rows already sent; the same row in a new batch is a new instruction (an offboard sent again
 * after a rehire must apply) and gets a new id. Role order is not significant.
 */
export function deriveCsvEventId(content: CsvEventContent, batchId: string): string {
  const normalised = JSON.stringify([
    content.type ?? null,
    content.employeeId ?? null,
    content.email?.toLowerCase() ?? null,
    content.roles ? sortedUnique(content.roles) : null,
    content.resourceRoles
      ? content.resourceRoles
          .map(({ resourceType, roles }) => [resourceType, sortedUnique(roles)])
          .sort((a, b) => compare(JSON.stringify(a), JSON.stringify(b)))
      : null,
    content.occurredAt ?? null,
    // Appended only when given: rows without it keep the ids they had before the column existed.
    ...(content.effectiveAt === undefined ? [] : [content.effectiveAt]),
  ]).normalize('NFC'); // as the canonical parse does, so both spellings of "é" give one id
  const digest = createHash('sha256').update(normalised).digest('hex').slice(0, 24);
  // Batch ids are 1-64 of [A-Za-z0-9._-] (POST /batch checks), and the digest has a fixed length, so no two
  // batches share an id.
  return `${DERIVED_ID_PREFIXES.batch}${batchId}-${digest}`;
}

const sortedUnique = (values: readonly string[]): string[] => [...new Set(values)].sort(compare);
// Code-unit order, not locale order, so the id is the same on every machine.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
