import type { EventType } from '../../events/canonical-event';
import { type BambooHrFieldLabels, dateFieldValue, fieldValue, hasField, includesLabel } from './fields';
import { isCalendarDate } from './zoned-date';

export const BAMBOOHR_ACTIONS = ['Created', 'Updated', 'Deleted'] as const;
export type BambooHrAction = (typeof BAMBOOHR_ACTIONS)[number];

export type ChangeToClassify = {
  action: BambooHrAction;
  changedFields: readonly string[];
  /** The employee's fields keyed by label: what the webhook posted, completed by a look-up if needed. */
  fields: Record<string, string>;
  labels: BambooHrFieldLabels;
};

/** The person's pending (scheduled) BambooHR events of `type` that a date removed or moved makes wrong. */
export type CancelPending = { type: 'hire' | 'offboard'; because: string };

export type Decision = {
  /** The event to accept; `effectiveDate` (YYYY-MM-DD) is the day it takes effect, from its start. */
  event?: { type: EventType; effectiveDate?: string };
  /** Cancelled before the event is accepted (and never the event itself). */
  cancels: CancelPending[];
};

/** A decision makes an event, cancels, or both; a skip says why the entry does neither. */
export type Classification = Decision | { skip: string };

/**
 * Which lifecycle event a BambooHR change stands for, when it takes effect, and which pending events it
 * replaces. Leaving wins over everything else: an entry that both changes a title and marks the person
 * inactive must deactivate them, not update their roles.
 * - Deleted, or Status Inactive: offboard now.
 * - Termination date set: offboard from the start of that day (BambooHR turns the status Inactive on that
 *   date; the earlier side is the safe one for a leaver), replacing a pending offboard of another date.
 *   Removed: cancel the pending offboard.
 * - Created, Status back to Active, or a hire date changed while Active: hire from the start of the hire
 *   date, a changed hire date replacing a pending hire. A hire date changed on anyone not Active is never a
 *   hire: a leaver must not be reactivated by a data correction.
 * - A new work email, job title or department: role change, now.
 */
export function classifyBambooHrChange({
  action,
  changedFields,
  fields,
  labels,
}: ChangeToClassify): Classification {
  const changed = (label: string) => includesLabel(changedFields, label);
  const status = fieldValue(fields, labels.status)?.toLowerCase();

  if (action === 'Deleted') return { event: { type: 'offboard' }, cancels: [] };
  if (status === 'inactive') return { event: { type: 'offboard' }, cancels: [] };

  const cancels: CancelPending[] = [];
  if (changed(labels.terminationDate)) {
    const terminationDate = dateFieldValue(fields, labels.terminationDate);
    if (terminationDate !== undefined) {
      const invalid = notADate(labels.terminationDate, terminationDate);
      if (invalid) return { skip: invalid };
      return {
        event: { type: 'offboard', effectiveDate: terminationDate },
        cancels: [{ type: 'offboard', because: `termination date changed to ${terminationDate}` }],
      };
    }
    if (!hasField(fields, labels.terminationDate)) return { skip: notPosted(labels.terminationDate) };
    cancels.push({ type: 'offboard', because: 'termination date removed' });
  }

  const hireDate = dateFieldValue(fields, labels.hireDate);
  const invalidHireDate = hireDate === undefined ? undefined : notADate(labels.hireDate, hireDate);
  const hireDateChanged = changed(labels.hireDate);
  const hire = (): Classification => {
    if (invalidHireDate) return { skip: invalidHireDate };
    if (hireDate === undefined) return { event: { type: 'hire' }, cancels };
    const moved: CancelPending[] = hireDateChanged
      ? [{ type: 'hire', because: `hire date changed to ${hireDate}` }]
      : [];
    return { event: { type: 'hire', effectiveDate: hireDate }, cancels: [...cancels, ...moved] };
  };

  if (action === 'Created') return hire();
  // Status back to Active is a rehire; a hire of a deactivated user reactivates it.
  if (changed(labels.status) && status === 'active') return hire();
  // A start moved: the new starter's hire is scheduled again for the new day.
  if (hireDateChanged && hireDate !== undefined && status === 'active') return hire();
  // A new work email is an email change: the person's new account is provisioned and the old one
  // deactivated. A role change, not a hire: an address corrected on a leaver's record must not bring them back.
  if (changed(labels.workEmail) || changed(labels.jobTitle) || changed(labels.department)) {
    return { event: { type: 'role_change' }, cancels };
  }
  if (cancels.length > 0) return { cancels };
  if (hireDateChanged) return { skip: hireDateSkip(fields, labels, hireDate) };
  return {
    skip:
      `no field that drives provisioning changed (changed: ${changedFields.join(', ') || 'none'}); ` +
      `watched: ${watchedLabels(labels).join(', ')}`,
  };
}

/** The labels whose change can make an event or cancel one. */
export function watchedLabels(labels: BambooHrFieldLabels): string[] {
  return [
    labels.workEmail,
    labels.jobTitle,
    labels.department,
    labels.status,
    labels.hireDate,
    labels.terminationDate,
  ];
}

/** Whether an entry may stand for anything: a changed watched field, or a Created or Deleted employee. */
export function changesWatchedField(
  entry: { action: BambooHrAction; changedFields: readonly string[] },
  labels: BambooHrFieldLabels,
): boolean {
  if (entry.action !== 'Updated') return true;
  return watchedLabels(labels).some((label) => includesLabel(entry.changedFields, label));
}

/** Why a changed hire date alone made no hire. */
function hireDateSkip(
  fields: Record<string, string>,
  labels: BambooHrFieldLabels,
  hireDate: string | undefined,
) {
  const status = fieldValue(fields, labels.status);
  if (hireDate === undefined) {
    return (
      `the hire date was removed: nothing to schedule; a hire already scheduled stays ` +
      '(cancel it with `hr-provisioning cancel ID` if the start is off)'
    );
  }
  if (status === undefined) {
    return (
      `the hire date changed but ${quote(labels.status)} is unknown, and only an Active employee is hired: ` +
      'add it to the fields the BambooHR webhook posts, or configure the BambooHR API so it can be looked up'
    );
  }
  return `the hire date changed while ${quote(labels.status)} is ${status}: only an Active employee is hired`;
}

function notADate(label: string, value: string): string | undefined {
  return isCalendarDate(value)
    ? undefined
    : `${quote(label)} is ${JSON.stringify(value)}, not a date (YYYY-MM-DD): correct it in BambooHR`;
}

function notPosted(label: string): string {
  return (
    `${quote(label)} changed but the webhook did not post its value: add it to the fields the BambooHR ` +
    'webhook posts, or configure the BambooHR API so it can be looked up'
  );
}

const quote = (label: string) => `"${label}"`;
