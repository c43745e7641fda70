import { createHash } from 'node:crypto';
import type { BambooHrWebhookEntry } from './webhook-payload';

const MAX_ID_PART = 64;

/**
 * A stable event id for a webhook entry, since BambooHR sends none. It is derived only from what the
 * delivery itself carries (not from directory look-ups, which can change between deliveries), so a
 * redelivered webhook yields the same ids and is deduplicated downstream. Printable ASCII, at most 98
 * characters: `bamboohr-<id>-<action>-<16 hex>`.
 */
export function bambooHrEventId(entry: BambooHrWebhookEntry): string {
  const fields = Object.entries(entry.fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // The raw id goes into the digest too: the readable part is sanitised and two ids could collapse into one.
  const digest = createHash('sha256')
    .update(JSON.stringify([entry.id, entry.action, entry.timestamp ?? '', entry.changedFields, fields]))
    .digest('hex')
    .slice(0, 16);
  const readableId = entry.id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, MAX_ID_PART);
  return `bamboohr-${readableId}-${entry.action.toLowerCase()}-${digest}`;
}
