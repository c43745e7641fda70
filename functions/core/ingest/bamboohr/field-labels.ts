import { z } from 'zod';
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
