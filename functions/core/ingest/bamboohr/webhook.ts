import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type CanonicalEvent, type EventType, parseCanonicalEvent } from '../../events/canonical-event';
import { describeIssue, issuesOf, ValidationError } from '../../events/validation-issues';
import { mapWithConcurrency } from '../accept-events';
import { DERIVED_ID_PREFIXES, futureOccurredAtIssue } from '../sender-rules';
import type { BambooHrDirectory } from './directory';
import {
  type BambooHrFieldLabels,
  dateFieldValue,
  employeeFromFields,
  fieldValue,
  includesLabel,
  resolveBambooHrFieldLabels,
} from './fields';

export const BAMBOOHR_ACTIONS = ['Created', 'Updated', 'Deleted'] as const;
export type BambooHrAction = (typeof BAMBOOHR_ACTIONS)[number];

// BambooHR sends ids and values as strings; numbers are accepted so a hand-written test payload works too.
const idText = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .pipe(z.string().min(1, { error: 'must not be empty' }));
// A field that has no value may arrive as null; it means the same as leaving the field out.
const fieldValues = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .transform((fields) => {
    const strings: Record<string, string> = {};
    for (const [label, value] of Object.entries(fields)) if (value !== null) strings[label] = String(value);
    return strings;
  });

// Loose objects: BambooHR may add keys to its payload, and unknown keys should not reject a delivery.
const entrySchema = z.object({
  id: idText,
  action: z.enum(BAMBOOHR_ACTIONS, { error: `must be one of ${BAMBOOHR_ACTIONS.join(', ')}` }),
  timestamp: z.string().optional(),
  changedFields: z.array(z.string()).default([]),
  fields: fieldValues.default({}),
});

const payloadSchema = z.object({ employees: z.array(entrySchema) });

/** One employee entry of a global webhook delivery, with `fields` keyed by label and values as strings. */
export type BambooHrWebhookEntry = z.output<typeof entrySchema>;
export type BambooHrWebhookPayload = z.output<typeof payloadSchema>;

/** Checks the shape of a global webhook body; throws a ValidationError naming each wrong path. */
export function parseBambooHrWebhookPayload(payload: unknown): BambooHrWebhookPayload {
  const result = payloadSchema.safeParse(payload, { reportInput: true });
  if (!result.success) throw new ValidationError(issuesOf(result.error), 'invalid BambooHR webhook payload');
  return result.data;
}

export type MapBambooHrWebhookOptions = {
  /** Overrides of the field labels, for companies that renamed fields in BambooHR. */
  labels?: Partial<BambooHrFieldLabels>;
  /** Looks up employees whose entry carries no fields (Created, Deleted) or no work email. */
  directory?: BambooHrDirectory;
  /**
   * When the delivery arrived (ISO-8601 with zone): the event time of entries without a usable timestamp,
   * and the clock a timestamp in the future is judged by.
   */
  receivedAt: string;
};

/** An entry that produced no event, with what an operator can do about it. */
export type SkippedBambooHrEntry = { employeeId: string; reason: string };

export type BambooHrWebhookMapping = {
  events: CanonicalEvent[];
  skipped: SkippedBambooHrEntry[];
  /** The BambooHR employee id of the entry behind each event, by event id: to report an event skipped later. */
  entryIds: Map<string, string>;
};

type EntryOutcome = { event: CanonicalEvent } | { skip: string };
type Context = { labels: BambooHrFieldLabels; directory: BambooHrDirectory | undefined; receivedAt: string };

// Enough to get through a bulk import within the webhook's answer deadline, few enough for BambooHR's limits.
const LOOKUP_CONCURRENCY = 4;
const isoDateTime = z.iso.datetime({ offset: true });

/**
 * Turns a BambooHR global (field-based) webhook delivery into canonical events, one per entry that changes
 * what TrueFoundry should hold, in delivery order. Throws a ValidationError when the body is not a
 * webhook payload, and rethrows transient directory errors so the delivery is retried as a whole (event ids
 * are stable, so entries already accepted deduplicate). Every other entry ends up in `events` or `skipped`.
 */
export async function mapBambooHrWebhook(
  payload: unknown,
  options: MapBambooHrWebhookOptions,
): Promise<BambooHrWebhookMapping> {
  if (!isoDateTime.safeParse(options.receivedAt).success) {
    throw new TypeError(
      `receivedAt must be an ISO-8601 date-time with a zone, got ${JSON.stringify(options.receivedAt)}`,
    );
  }
  const { employees } = parseBambooHrWebhookPayload(payload);
  const context: Context = {
    labels: resolveBambooHrFieldLabels(options.labels),
    directory: options.directory,
    receivedAt: options.receivedAt,
  };
  const outcomes = await mapWithConcurrency(employees, LOOKUP_CONCURRENCY, (entry) =>
    mapEntry(entry, context),
  );

  const result: BambooHrWebhookMapping = { events: [], skipped: [], entryIds: new Map() };
  outcomes.forEach((outcome, index) => {
    const employeeId = employees[index]?.id ?? '';
    if ('event' in outcome) {
      result.events.push(outcome.event);
      result.entryIds.set(outcome.event.id, employeeId);
    } else result.skipped.push({ employeeId, reason: outcome.skip });
  });
  return result;
}

async function mapEntry(entry: BambooHrWebhookEntry, context: Context): Promise<EntryOutcome> {
  const { labels } = context;
  // Decide on what was posted first, so an irrelevant change costs no API call.
  const occurredAt = occurredAtOf(entry, context.receivedAt);
  // Skipped like any other entry that cannot be an event: BambooHR would redeliver a refused delivery
  // as it is, and the other entries are fine.
  const future = futureOccurredAtIssue(occurredAt, Date.parse(context.receivedAt));
  if (future) return { skip: `timestamp ${future.message}` };
  const posted = classifyBambooHrChange({ ...entry, labels, occurredAt });
  if ('skip' in posted) return posted;

  const fields = await completeFields(entry, context);
  if ('skip' in fields) return fields;
  const classification = classifyBambooHrChange({ ...entry, fields: fields.fields, labels, occurredAt });
  if ('skip' in classification) return classification;

  const email = fieldValue(fields.fields, labels.workEmail);
  if (email === undefined) {
    return {
      skip: `employee ${entry.id} has no ${quote(labels.workEmail)}: add the work email in BambooHR, the user is keyed by it`,
    };
  }
  const parsed = parseCanonicalEvent({
    id: bambooHrEventId(entry, occurredAt),
    type: classification.type,
    occurredAt,
    employee: employeeFromFields(entry.id, email, fields.fields, labels),
  });
  return parsed.ok
    ? { event: parsed.event }
    : { skip: `the event is invalid: ${parsed.issues.map(describeIssue).join('; ')}` };
}

/**
 * The posted fields, completed from the directory when they lack the work email (Created and Deleted
 * entries carry no fields at all). Posted values win: they are the values as of the change.
 */
async function completeFields(
  entry: BambooHrWebhookEntry,
  { labels, directory }: Context,
): Promise<{ fields: Record<string, string> } | { skip: string }> {
  if (fieldValue(entry.fields, labels.workEmail) !== undefined) return { fields: entry.fields };
  const postedNothing = Object.keys(entry.fields).length === 0;

  if (directory === undefined) {
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
    return { skip: `looking up employee ${entry.id} in BambooHR failed: ${messageOf(error)}` };
  }
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
  return { fields: { ...found, ...entry.fields } };
}

function occurredAtOf(entry: BambooHrWebhookEntry, receivedAt: string): string {
  const timestamp = entry.timestamp?.trim();
  return timestamp !== undefined && isoDateTime.safeParse(timestamp).success ? timestamp : receivedAt;
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
