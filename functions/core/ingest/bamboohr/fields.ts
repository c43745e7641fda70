import * as z from 'zod';

/**
 * The BambooHR field labels the adapter reads. Global webhooks key `fields` and `changedFields` by the
 * label an admin sees in BambooHR, and admins can rename fields, so every label is configurable.
 */
export type BambooHrFieldLabels = {
  employeeNumber: string;
  workEmail: string;
  firstName: string;
  lastName: string;
  jobTitle: string;
  department: string;
  location: string;
  employmentType: string;
  status: string;
  /** The first working day: a hire takes effect at its start (BAMBOOHR_TIME_ZONE). */
  hireDate: string;
  /** The day BambooHR turns the status Inactive: an offboard takes effect at its start (BAMBOOHR_TIME_ZONE). */
  terminationDate: string;
};

export type BambooHrField = keyof BambooHrFieldLabels;

/** BambooHR's out-of-the-box labels. */
export const DEFAULT_BAMBOOHR_FIELD_LABELS: Readonly<BambooHrFieldLabels> = Object.freeze({
  employeeNumber: 'Employee #',
  workEmail: 'Work Email',
  firstName: 'First Name',
  lastName: 'Last Name',
  jobTitle: 'Job Title',
  department: 'Department',
  location: 'Location',
  employmentType: 'Employment Status',
  status: 'Status',
  hireDate: 'Hire Date',
  terminationDate: 'Termination Date',
});

/**
 * The defaults with the given overrides on top. Undefined overrides keep the default; a blank one is a
 * configuration mistake (no field could ever match it), so it throws rather than silently reading nothing.
 */
export function resolveBambooHrFieldLabels(
  overrides: Partial<BambooHrFieldLabels> = {},
): BambooHrFieldLabels {
  const labels: BambooHrFieldLabels = { ...DEFAULT_BAMBOOHR_FIELD_LABELS };
  for (const field of Object.keys(labels) as BambooHrField[]) {
    const override = overrides[field];
    if (override === undefined) continue;
    const label = override.trim();
    if (label === '') throw new Error(`BambooHR field label for "${field}" must not be blank`);
    labels[field] = label;
  }
  return labels;
}

const label = z.string().trim().min(1, { error: 'must not be empty' }).optional();

/** Label overrides as configuration holds them: only known fields, none blank. */
export const bambooHrFieldLabelOverrides = z.strictObject({
  employeeNumber: label,
  workEmail: label,
  firstName: label,
  lastName: label,
  jobTitle: label,
  department: label,
  location: label,
  employmentType: label,
  status: label,
  hireDate: label,
  terminationDate: label,
});

/** The overrides as one JSON environment variable (`BAMBOOHR_FIELD_LABELS`), checked like the rest of it. */
export const bambooHrFieldLabelsJson = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object, e.g. {"workEmail":"Company Email"}' });
      return z.NEVER;
    }
  })
  .pipe(bambooHrFieldLabelOverrides);

/** BambooHR's way of saying "no date" in date fields. */
const EMPTY_DATE = '0000-00-00';

/**
 * The trimmed value of the field with this label, or undefined when absent or blank. Labels match exactly
 * first, then ignoring case and surrounding spaces, since admins retype labels when they configure things.
 */
export function fieldValue(fields: Record<string, string>, label: string): string | undefined {
  const exact = fields[label];
  const raw = exact ?? Object.entries(fields).find(([key]) => sameLabel(key, label))?.[1];
  const value = raw?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** Like `fieldValue`, but BambooHR's placeholder date `0000-00-00` counts as blank. */
export function dateFieldValue(fields: Record<string, string>, label: string): string | undefined {
  const value = fieldValue(fields, label);
  return value === EMPTY_DATE ? undefined : value;
}

/** Whether the field was given at all, even blank: a blank date was removed, a missing one is unknown. */
export function hasField(fields: Record<string, string>, label: string): boolean {
  return Object.hasOwn(fields, label) || Object.keys(fields).some((key) => sameLabel(key, label));
}

export function includesLabel(labels: readonly string[], label: string): boolean {
  return labels.some((candidate) => sameLabel(candidate, label));
}

function sameLabel(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** The canonical `employee` before validation; parseCanonicalEvent trims, normalises and checks it. */
export type EmployeeDraft = {
  id: string;
  email: string;
  name: string | undefined;
  department: string | undefined;
  title: string | undefined;
  location: string | undefined;
  employmentType: string | undefined;
};

/**
 * Reads the employee from BambooHR fields. The employee number is the id HR people use; the internal
 * BambooHR id stands in when a company does not use employee numbers. No roles: the role-mapping rules
 * derive them from department, title and the rest.
 */
export function employeeFromFields(
  bambooHrId: string,
  email: string,
  fields: Record<string, string>,
  labels: BambooHrFieldLabels,
): EmployeeDraft {
  const read = (label: string) => fieldValue(fields, label);
  const name = [read(labels.firstName), read(labels.lastName)].filter((part) => part !== undefined).join(' ');
  return {
    id: read(labels.employeeNumber) ?? bambooHrId,
    email,
    name: name === '' ? undefined : name,
    department: read(labels.department),
    title: read(labels.jobTitle),
    location: read(labels.location),
    employmentType: read(labels.employmentType),
  };
}
