import type { BambooHrField, BambooHrFieldLabels } from './field-labels';

/**
 * BambooHR's API names for the fields the adapter reads. The REST API speaks these fixed names while
 * webhooks speak the (renameable) labels, so lookups translate one into the other.
 */
export const BAMBOOHR_API_FIELD_NAMES: Readonly<Record<BambooHrField, string>> = Object.freeze({
  employeeNumber: 'employeeNumber',
  workEmail: 'workEmail',
  firstName: 'firstName',
  lastName: 'lastName',
  jobTitle: 'jobTitle',
  department: 'department',
  location: 'location',
  employmentType: 'employmentHistoryStatus',
  status: 'status',
  terminationDate: 'terminationDate',
});

/** An API answer re-keyed by label, keeping only the fields the adapter reads and that have a value. */
export function labelApiFields(
  apiFields: Record<string, unknown>,
  labels: BambooHrFieldLabels,
): Record<string, string> {
  const labelled: Record<string, string> = {};
  for (const [field, apiName] of Object.entries(BAMBOOHR_API_FIELD_NAMES) as [BambooHrField, string][]) {
    const value = apiFields[apiName];
    // BambooHR answers null for a requested field that has no value.
    if (typeof value === 'string') labelled[labels[field]] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') labelled[labels[field]] = String(value);
  }
  return labelled;
}
