import { createHash } from 'node:crypto';
import { DERIVED_ID_PREFIXES } from '../reserved-ids';
import type { BambooHrWebhookEntry } from './webhook-payload';

const MAX_ID_PART = 64;

/**
 * A stable event id for a webhook entry, since BambooHR sends none. It is derived only from what the
 * delivery itself carries (not from directory look-ups, which can change between deliveries) and the
 * entry's time as used (`occurredAt`: its timestamp, or the receipt time when it has none). So a
 * redelivered webhook with timestamps yields the same ids and is deduplicated downstream, while the same
 * change made again later is a new event even when BambooHR sent no timestamp. The price: a redelivery
 * of an entry without a timestamp counts as new too, which convergence makes harmless.
 * Printable ASCII, at most 98 characters: `bamboohr-<id>-<action>-<16 hex>`.
 */
export function bambooHrEventId(entry: BambooHrWebhookEntry, occurredAt: string): string {
  const fields = Object.entries(entry.fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // One spelling of the instant, so `+00:00` and `Z` give one id.
  const at = new Date(occurredAt).toISOString();
  // The raw id goes into the digest too: the readable part is sanitised and two ids could collapse into one.
  const digest = createHash('sha256')
    .update(JSON.stringify([entry.id, entry.action, at, entry.changedFields, fields]))
    .digest('hex')
    .slice(0, 16);
  const readableId = entry.id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, MAX_ID_PART);
  return `${DERIVED_ID_PREFIXES.bamboohr}${readableId}-${entry.action.toLowerCase()}-${digest}`;
}
