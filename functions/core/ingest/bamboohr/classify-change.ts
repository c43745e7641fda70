import type { EventType } from '../../events/canonical-event';
import type { BambooHrFieldLabels } from './field-labels';
import { dateFieldValue, fieldValue, includesLabel } from './field-values';
import type { BambooHrAction } from './webhook-payload';

export type ChangeToClassify = {
  action: BambooHrAction;
  changedFields: readonly string[];
  /** The employee's fields keyed by label: what the webhook posted, completed by a look-up if needed. */
  fields: Record<string, string>;
  labels: BambooHrFieldLabels;
  /** When the change happened (ISO-8601): a termination dated later than this is not due yet. */
  occurredAt: string;
};

export type Classification = { type: EventType } | { skip: string };

/**
 * Which lifecycle event a BambooHR change stands for. Leaving wins over everything else: an entry that
 * both changes a title and marks the person inactive must deactivate them, not update their roles.
 */
export function classifyBambooHrChange({
  action,
  changedFields,
  fields,
  labels,
  occurredAt,
}: ChangeToClassify): Classification {
  const changed = (label: string) => includesLabel(changedFields, label);
  const status = fieldValue(fields, labels.status)?.toLowerCase();

  if (action === 'Deleted') return { type: 'offboard' };
  if (status === 'inactive') return { type: 'offboard' };
  const terminationDate = dateFieldValue(fields, labels.terminationDate);
  if (changed(labels.terminationDate) && terminationDate !== undefined) {
    // A termination entered ahead of time must not lock the person out weeks early: BambooHR sets
    // the status to Inactive when the day comes, and that change offboards.
    if (terminationDate > occurredAt.slice(0, 10)) {
      return {
        skip: `termination on ${terminationDate} is not due yet; the status change to Inactive will offboard`,
      };
    }
    return { type: 'offboard' };
  }
  if (action === 'Created') return { type: 'hire' };
  // Status back to Active is a rehire; a hire of a deactivated user reactivates it.
  if (changed(labels.status) && status === 'active') return { type: 'hire' };
  // A new work email is an email change: the person's new account is provisioned and the old one
  // deactivated. A role change, not a hire: an address corrected on a leaver's record must not bring them back.
  if (changed(labels.workEmail) || changed(labels.jobTitle) || changed(labels.department)) {
    return { type: 'role_change' };
  }
  return {
    skip:
      `no field that drives provisioning changed (changed: ${changedFields.join(', ') || 'none'}); ` +
      `watched: ${labels.workEmail}, ${labels.jobTitle}, ${labels.department}, ${labels.status}, ${labels.terminationDate}`,
  };
}
