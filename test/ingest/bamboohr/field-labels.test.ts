import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BAMBOOHR_FIELD_LABELS,
  resolveBambooHrFieldLabels,
} from '../../../functions/core/ingest/bamboohr/fields';

describe('resolveBambooHrFieldLabels', () => {
  it('defaults to the labels BambooHR ships with', () => {
    expect(resolveBambooHrFieldLabels()).toEqual({
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
  });

  it('merges partial overrides, trimmed, and ignores undefined ones', () => {
    const labels = resolveBambooHrFieldLabels({ workEmail: ' Company Email ', department: undefined });
    expect(labels).toEqual({ ...DEFAULT_BAMBOOHR_FIELD_LABELS, workEmail: 'Company Email' });
    expect(DEFAULT_BAMBOOHR_FIELD_LABELS.workEmail).toBe('Work Email');
  });

  it('rejects a blank override', () => {
    expect(() => resolveBambooHrFieldLabels({ jobTitle: ' ' })).toThrow(/"jobTitle" must not be blank/);
  });
});
