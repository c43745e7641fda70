import { createHash } from 'node:crypto';
import * as z from 'zod';
import { type CanonicalEvent, employeeSchema, parseCanonicalEvent } from '../../events/canonical-event';
import { personKeyOf } from '../../events/identity';
import { describeIssue, issuesOf, ValidationError } from '../../events/validation-issues';
import { dueAtOf, mapWithConcurrency } from '../accept-events';
import { DERIVED_ID_PREFIXES, distantEffectiveAtIssue, futureOccurredAtIssue } from '../sender-rules';
import {
  BAMBOOHR_ACTIONS,
  type CancelPending,
  changesWatchedField,
  classifyBambooHrChange,
} from './classify-change';
import { completeFields, neededLabels } from './complete-fields';
import type { BambooHrDirectory } from './directory';
import {
  type BambooHrFieldLabels,
  type EmployeeDraft,
  employeeFromFields,
  fieldValue,
  resolveBambooHrFieldLabels,
} from './fields';
import { isKnownTimeZone, startOfDayIn } from './zoned-date';

export { BAMBOOHR_ACTIONS, type BambooHrAction } from './classify-change';

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
  /** Looks up employees whose entry carries no fields (Created, Deleted), no work email, or not the dates. */
  directory?: BambooHrDirectory;
  /**
   * When the delivery arrived (ISO-8601 with zone): the event time of entries without a usable timestamp,
   * and the clock a timestamp in the future is judged by.
   */
  receivedAt: string;
  /** The IANA zone whose days BambooHR's hire and termination dates are (BAMBOOHR_TIME_ZONE). Default UTC. */
  timeZone?: string;
};

/** An entry that produced no event, with what an operator can do about it. */
export type SkippedBambooHrEntry = { employeeId: string; reason: string };

/**
 * A person's pending BambooHR events that an entry cancels before its own event is accepted: a termination
 * date removed or moved cancels the scheduled offboard, a hire date moved the scheduled hire.
 */
export type BambooHrCancellation = {
  /** The BambooHR employee id of the entry. */
  employeeId: string;
  personKey: string;
  type: CancelPending['type'];
  /**
   * Only events of changes made up to this one (its occurredAt, UTC): a redelivered older change must not
   * cancel what a newer one scheduled.
   */
  issuedUpTo: string;
  /** The entry's own event: a redelivery finds it scheduled already, and it stays. */
  keep?: string;
  /** Who cancels, for the cancelled record's note: `BambooHR (termination date removed)`. */
  by: string;
};

export type BambooHrWebhookMapping = {
  events: CanonicalEvent[];
  skipped: SkippedBambooHrEntry[];
  /** The BambooHR employee id of the entry behind each event, by event id: to report an event skipped later. */
  entryIds: Map<string, string>;
  /** To run before the events are accepted, in delivery order. */
  cancellations: BambooHrCancellation[];
};

type EntryOutcome = { event?: CanonicalEvent; cancellations: BambooHrCancellation[] } | { skip: string };
type Context = {
  labels: BambooHrFieldLabels;
  directory: BambooHrDirectory | undefined;
  receivedAt: string;
  timeZone: string;
};

// Enough to get through a bulk import within the webhook's answer deadline, few enough for BambooHR's limits.
const LOOKUP_CONCURRENCY = 4;
const isoDateTime = z.iso.datetime({ offset: true });

/**
 * Turns a BambooHR global (field-based) webhook delivery into canonical events, one per entry that changes
 * what TrueFoundry should hold, in delivery order, and the pending events that entries cancel. Throws a
 * ValidationError when the body is not a webhook payload, and rethrows transient directory errors so the
 * delivery is retried as a whole (event ids are stable, so entries already accepted deduplicate). Every
 * other entry ends up in `events`, `cancellations` (a date removed makes no event), or `skipped`.
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
  const timeZone = options.timeZone ?? 'UTC';
  if (!isKnownTimeZone(timeZone)) {
    throw new TypeError(`timeZone must be an IANA time zone name, got ${JSON.stringify(timeZone)}`);
  }
  const { employees } = parseBambooHrWebhookPayload(payload);
  const context: Context = {
    labels: resolveBambooHrFieldLabels(options.labels),
    directory: options.directory,
    receivedAt: options.receivedAt,
    timeZone,
  };
  const outcomes = await mapWithConcurrency(employees, LOOKUP_CONCURRENCY, (entry) =>
    mapEntry(entry, context),
  );

  const result: BambooHrWebhookMapping = { events: [], skipped: [], entryIds: new Map(), cancellations: [] };
  const supersededAt = supersededEvents(outcomes, new Date(options.receivedAt).toISOString());
  outcomes.forEach((outcome, index) => {
    const employeeId = employees[index]?.id ?? '';
    if ('skip' in outcome) {
      result.skipped.push({ employeeId, reason: outcome.skip });
      return;
    }
    result.cancellations.push(...outcome.cancellations);
    if (!outcome.event) return;
    const by = supersededAt.get(index);
    if (by !== undefined) {
      result.skipped.push({ employeeId, reason: `a later entry of this delivery cancels it: ${by}` });
      return;
    }
    result.events.push(outcome.event);
    result.entryIds.set(outcome.event.id, employeeId);
  });
  return result;
}

/**
 * The entries whose event a later entry of the same delivery cancels (BambooHR may batch several changes of
 * one person), by index, with who cancels. Cancellations run before the delivery's events are recorded, so
 * they cannot catch these; left out here, the first delivery ends as a redelivery of it would. Only an event
 * that would wait (effective later) counts, as only a scheduled event is ever cancelled.
 */
function supersededEvents(outcomes: readonly EntryOutcome[], receivedAt: string): Map<number, string> {
  const later = new Map<string, { index: number; cancellation: BambooHrCancellation }[]>();
  outcomes.forEach((outcome, index) => {
    if ('skip' in outcome) return;
    for (const cancellation of outcome.cancellations) {
      const list = later.get(cancellation.personKey) ?? [];
      list.push({ index, cancellation });
      later.set(cancellation.personKey, list);
    }
  });
  const superseded = new Map<number, string>();
  if (later.size === 0) return superseded;
  outcomes.forEach((outcome, index) => {
    if ('skip' in outcome || !outcome.event || dueAtOf(outcome.event, receivedAt) === undefined) return;
    const event = outcome.event;
    const match = later
      .get(personKeyOf(event.employee))
      ?.find(
        ({ index: at, cancellation: c }) =>
          at > index && c.type === event.type && c.keep !== event.id && event.occurredAt <= c.issuedUpTo,
      );
    if (match) superseded.set(index, match.cancellation.by);
  });
  return superseded;
}

async function mapEntry(entry: BambooHrWebhookEntry, context: Context): Promise<EntryOutcome> {
  const { labels } = context;
  const occurredAt = occurredAtOf(entry, context.receivedAt);
  // Skipped like any other entry that cannot be an event: BambooHR would redeliver a refused delivery
  // as it is, and the other entries are fine.
  const future = futureOccurredAtIssue(occurredAt, Date.parse(context.receivedAt));
  if (future) return { skip: `timestamp ${future.message}` };
  // Decide on what was posted first, so an irrelevant change costs no API call.
  const posted = classifyBambooHrChange({ ...entry, labels });
  if ('skip' in posted && !changesWatchedField(entry, labels)) return posted;

  const fields = await completeFields(entry, neededLabels(entry, posted, labels), context);
  if ('skip' in fields) return fields;
  const decision = classifyBambooHrChange({ ...entry, fields: fields.fields, labels });
  if ('skip' in decision) return decision;

  const email = fieldValue(fields.fields, labels.workEmail);
  if (email === undefined) {
    return {
      skip: `employee ${entry.id} has no ${quote(labels.workEmail)}: add the work email in BambooHR, the user is keyed by it`,
    };
  }
  const draft = employeeFromFields(entry.id, email, fields.fields, labels);
  let event: CanonicalEvent | undefined;
  if (decision.event) {
    const { type, effectiveDate } = decision.event;
    // The day's first instant in the company's zone; the classification checked that it is a date.
    const effectiveAt =
      effectiveDate === undefined ? undefined : startOfDayIn(effectiveDate, context.timeZone);
    // A year mistyped (2062 for 2026) would park the event for decades; the pending event stays as it was.
    const distant = distantEffectiveAtIssue(effectiveAt, Date.parse(context.receivedAt));
    if (distant) return { skip: `the date ${effectiveDate} ${distant.message}` };
    const parsed = parseCanonicalEvent({
      id: bambooHrEventId(entry, occurredAt),
      type,
      occurredAt,
      ...(effectiveAt === undefined ? {} : { effectiveAt }),
      employee: draft,
    });
    if (!parsed.ok) return { skip: `the event is invalid: ${parsed.issues.map(describeIssue).join('; ')}` };
    event = parsed.event;
  }
  const person = event ? { key: personKeyOf(event.employee) } : personKeyOfDraft(draft);
  if ('skip' in person) return person;
  const issuedUpTo = new Date(occurredAt).toISOString();
  return {
    ...(event ? { event } : {}),
    cancellations: decision.cancels.map((cancel) => ({
      employeeId: entry.id,
      personKey: person.key,
      type: cancel.type,
      issuedUpTo,
      ...(event ? { keep: event.id } : {}),
      by: `BambooHR (${cancel.because})`,
    })),
  };
}

/** The person key of an entry that makes no event (a date removed), normalised as an event's employee is. */
function personKeyOfDraft(draft: EmployeeDraft): { key: string } | { skip: string } {
  const parsed = employeeSchema.safeParse(draft, { reportInput: true });
  if (parsed.success) return { key: personKeyOf(parsed.data) };
  const issues = issuesOf(parsed.error).map((issue) => ({ ...issue, path: `employee.${issue.path}` }));
  return { skip: `the employee is invalid: ${issues.map(describeIssue).join('; ')}` };
}

function occurredAtOf(entry: BambooHrWebhookEntry, receivedAt: string): string {
  const timestamp = entry.timestamp?.trim();
  return timestamp !== undefined && isoDateTime.safeParse(timestamp).success ? timestamp : receivedAt;
}

const quote = (label: string) => `"${label}"`;

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
