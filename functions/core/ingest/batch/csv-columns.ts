/** The columns a batch CSV may have, in the order the docs list them; files may order them freely. */
export const CSV_COLUMNS = [
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
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** Without these a row cannot say what happened to whom; `employee_id` falls back to the email. */
export const REQUIRED_CSV_COLUMNS: readonly CsvColumn[] = ['type', 'email'];

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
