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
