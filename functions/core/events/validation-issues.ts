import type { z } from 'zod';

/** One thing wrong with an input, named so an HR admin can find and fix it in the source record. */
export type ValidationIssue = { path: string; message: string };

/** Thrown (or returned) when input does not fit a schema; `issues` names every field that is wrong. */
export class ValidationError extends Error {
  constructor(
    readonly issues: ValidationIssue[],
    what = 'invalid input',
  ) {
    super(`${what}: ${issues.map(describeIssue).join('; ')}`);
    this.name = 'ValidationError';
  }
}

export const describeIssue = (issue: ValidationIssue): string =>
  issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;

/** Turns zod's issues into field paths (`employee.email`, `roles.1`) with plain-language messages. */
export function issuesOf(error: z.ZodError): ValidationIssue[] {
  return error.issues.flatMap((issue): ValidationIssue[] => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: path === '' ? key : `${path}.${key}`,
        message: 'is not a known field',
      }));
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      return [{ path, message: 'is required' }];
    }
    if (issue.code === 'invalid_type') {
      return [{ path, message: `must be ${article(issue.expected)} (got ${kindOf(issue.input)})` }];
    }
    return [{ path, message: issue.message }];
  });
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
