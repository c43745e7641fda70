import { z } from 'zod';
import { type CanonicalEvent, parseCanonicalEvent } from '../../events/canonical-event';
import { describeIssue } from '../../events/validation-issues';
import { mapWithConcurrency } from '../map-with-concurrency';
import { futureOccurredAtIssue } from '../occurred-at-bound';
import type { BambooHrDirectory } from './bamboohr-directory';
import { classifyBambooHrChange } from './classify-change';
import { employeeFromFields } from './employee-from-fields';
import { bambooHrEventId } from './event-id';
import { type BambooHrFieldLabels, resolveBambooHrFieldLabels } from './field-labels';
import { fieldValue } from './field-values';
import { type BambooHrWebhookEntry, parseBambooHrWebhookPayload } from './webhook-payload';

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
