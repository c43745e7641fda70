import { parseCanonicalEvent } from '../../events/canonical-event';
import { describeIssue, type ValidationIssue } from '../../events/validation-issues';
import type { Submission } from '../id-conflicts';
import { senderRuleIssues } from '../sender-rules';
import type { BatchParseOptions } from './batch-result';
import { type CsvColumn, columnOfCanonicalPath } from './csv-columns';
import type { CsvHeader } from './csv-header';
import { deriveCsvEventId } from './derived-event-id';
import { parseResourceRolesCell, parseRolesCell } from './list-cells';

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

  const result = parseCanonicalEvent({
    id: id ?? deriveCsvEventId({ type, employeeId, email, roles, resourceRoles, occurredAt }, batchId),
    type,
    occurredAt: occurredAt ?? receivedAt,
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
  const ruleIssues = senderRuleIssues({ id, occurredAt }, Date.parse(receivedAt), schemaIssues);
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
