import { createHash } from 'node:crypto';
import type { Employee } from './canonical-event';

/**
 * The key of the person an event is about: the queue group (SQS MessageGroupId) and the state key. It is
 * the HR employee id, stable when the email changes, so a person's events stay in one FIFO group across an
 * email change. A source without employee ids puts the email there (CSV rows without `employee_id`); such
 * a person is keyed by the email, and an email-keyed person never blocks the id-keyed one that later
 * arrives for the same address.
 * SQS allows 128 printable ASCII characters, so longer or non-ASCII keys are hashed.
 */
export function personKeyOf(employee: Pick<Employee, 'id' | 'email'>): string {
  const key =
    employee.id.toLowerCase() === employee.email ? emailPersonKey(employee.email) : `id:${employee.id}`;
  return /^[\x21-\x7e]{1,128}$/.test(key) ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** The key of a person known only by an email. */
export const emailPersonKey = (email: string): string => `email:${email}`;

/** Whether `personKey` is the email-only person of `email`: the same human as any id-keyed holder of it. */
export const isEmailPersonOf = (personKey: string, email: string): boolean =>
  personKey === personKeyOf({ id: email, email });
