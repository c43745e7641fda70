import type { BambooHrFieldLabels } from './field-labels';
import { fieldValue } from './field-values';

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
