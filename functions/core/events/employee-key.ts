import { createHash } from 'node:crypto';

/**
 * The key that orders one person's events (SQS MessageGroupId, state keys). It is the TrueFoundry
 * identity, the normalised email, because one TrueFoundry user is what events for a person converge;
 * an employee number can change on rehire while the email, and the account, stay.
 * SQS allows 128 printable ASCII characters, so longer or non-ASCII emails are hashed.
 */
export function employeeKeyOf(email: string): string {
  return /^[\x21-\x7e]{1,128}$/.test(email)
    ? email
    : `sha256:${createHash('sha256').update(email).digest('hex')}`;
}
