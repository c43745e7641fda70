import type { Classification } from './classify-change';
import type { BambooHrDirectory } from './directory';
import { type BambooHrFieldLabels, fieldValue, hasField, includesLabel } from './fields';
import type { BambooHrWebhookEntry } from './webhook';

/*
 * What an entry's decision needs that the webhook may not have posted, and the look-up that completes it.
 * Global webhooks post the fields an admin chose (Created and Deleted entries: none), so the adapter asks
 * BambooHR's API for the rest.
 */

/**
 * The labels an entry's decision reads: the work email always; a changed date, and for a changed hire date
 * the status too (only an Active employee is hired); the hire date of a hire, which takes effect on it.
 */
export function neededLabels(
  entry: BambooHrWebhookEntry,
  posted: Classification,
  labels: BambooHrFieldLabels,
): string[] {
  const changed = (label: string) => includesLabel(entry.changedFields, label);
  const needed = [labels.workEmail];
  if (changed(labels.terminationDate)) needed.push(labels.terminationDate);
  if (changed(labels.hireDate)) needed.push(labels.hireDate, labels.status);
  if (!('skip' in posted) && posted.event?.type === 'hire') needed.push(labels.hireDate);
  return needed;
}

/**
 * The posted fields, completed from the directory when they lack the work email (Created and Deleted
 * entries carry no fields at all) or another field the decision needs. Posted values win: they are the
 * values as of the change. A needed field the directory has no value for counts as given blank (a date
 * removed), not as unknown.
 */
export async function completeFields(
  entry: BambooHrWebhookEntry,
  needed: readonly string[],
  { labels, directory }: { labels: BambooHrFieldLabels; directory: BambooHrDirectory | undefined },
): Promise<{ fields: Record<string, string> } | { skip: string }> {
  const hasEmail = fieldValue(entry.fields, labels.workEmail) !== undefined;
  const missing = needed.filter((label) =>
    label === labels.workEmail ? !hasEmail : !hasField(entry.fields, label),
  );
  if (missing.length === 0) return { fields: entry.fields };
  const postedNothing = Object.keys(entry.fields).length === 0;

  if (directory === undefined) {
    // Without the email there is no event; without a date the classification says which is missing.
    if (hasEmail) return { fields: entry.fields };
    return {
      skip: postedNothing
        ? `BambooHR posts no fields with ${entry.action} entries: configure the BambooHR API (company domain ` +
          'and API key) so the employee can be looked up, then resend'
        : `the webhook did not post ${quote(labels.workEmail)}: add it to the fields the BambooHR webhook posts, ` +
          'or configure the BambooHR API so the employee can be looked up',
    };
  }

  let found: Record<string, string> | undefined;
  try {
    found = await directory.getEmployee(entry.id);
  } catch (error) {
    if (!isKnownPermanent(error)) throw error;
    // With the email posted, the rest only completes the picture: the classification names what is unknown.
    if (hasEmail) return { fields: entry.fields };
    return { skip: `looking up employee ${entry.id} in BambooHR failed: ${messageOf(error)}` };
  }
  if (found === undefined && hasEmail) return { fields: entry.fields };
  if (found === undefined) {
    return {
      skip:
        entry.action === 'Deleted'
          ? `BambooHR no longer has employee ${entry.id} (404), so the work email to offboard is unknown: ` +
            'offboard the person by email from another source (e.g. a CSV) or in TrueFoundry'
          : `BambooHR has no employee ${entry.id} (404): check that the API key's user can see this employee, ` +
            'then resend',
    };
  }
  const blanks = Object.fromEntries(missing.filter((l) => l !== labels.workEmail).map((l) => [l, '']));
  return { fields: { ...blanks, ...found, ...entry.fields } };
}

// Errors that say they are not transient (bad API key, forbidden) will not heal by a redelivery.
function isKnownPermanent(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'isTransient' in error &&
    typeof error.isTransient === 'function' &&
    error.isTransient() === false
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const quote = (label: string) => `"${label}"`;
