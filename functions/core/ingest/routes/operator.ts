import * as z from 'zod';
import { EVENT_STATUSES, type EventRecord, type EventStatus } from '../../engine/ports';
import { issuesOf } from '../../events/validation-issues';
import { auditLine } from '../../privacy/forget-person';
import { type IngestRequest, type IngestResponse, json, problem, requireJson } from '../http';
import type { Caller, IngestDeps } from '../ingest-deps';
import { readJson } from '../read-json';

/*
 * The operator routes (`operator` auth: the bearer token, or IAM on AWS, where the operator λ serves them):
 * reading events, and erasing a person.
 */

/** What an operator sees of an event: status first, then what happened step by step. */
export function eventView(record: EventRecord) {
  return {
    id: record.eventId,
    status: record.status,
    type: record.type,
    occurredAt: record.occurredAt,
    /** When the event takes effect, as the sender gave it (effective dates). */
    ...(record.event.effectiveAt ? { effectiveAt: record.event.effectiveAt } : {}),
    /** When a scheduled event runs (and, after, when it was due). */
    ...(record.dueAt ? { dueAt: record.dueAt } : {}),
    employee: { id: record.event.employee.id, email: record.event.employee.email },
    /** The person the event is ordered with: the HR employee id, or the email when the source gave none. */
    person: record.employeeKey,
    /** Acceptance order: decides between the person's events with equal timestamps. */
    ...(record.sequence === undefined ? {} : { sequence: record.sequence }),
    source: record.source,
    attempts: record.attempts,
    steps: record.steps,
    ...(record.error ? { error: record.error } : {}),
    ...(record.note ? { note: record.note } : {}),
    receivedAt: record.receivedAt,
    updatedAt: record.updatedAt,
  };
}

/** GET /events/{id} */
export async function getEvent(id: string, deps: IngestDeps): Promise<IngestResponse> {
  const record = await deps.store.get(id);
  if (!record)
    return problem(404, { error: 'not_found', message: `no event with id "${id}" was ever accepted` });
  return json(200, eventView(record));
}

/** GET /events?status=failed&limit=50&cursor=… */
export async function listEvents(
  query: Record<string, string | undefined>,
  deps: IngestDeps,
): Promise<IngestResponse> {
  const status = query.status;
  if (status !== undefined && !EVENT_STATUSES.includes(status as EventStatus)) {
    return problem(400, {
      error: 'invalid_query',
      message: `status must be one of ${EVENT_STATUSES.join(', ')}`,
      allowed: EVENT_STATUSES,
    });
  }
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    return problem(400, { error: 'invalid_query', message: 'limit must be a whole number from 1 to 500' });
  }
  const page = await deps.store.list({
    limit,
    ...(status ? { status: status as EventStatus } : {}),
    ...(query.cursor ? { cursor: query.cursor } : {}),
  });
  return json(200, { events: page.records.map(eventView), ...(page.cursor ? { cursor: page.cursor } : {}) });
}

const text = (max: number) =>
  z
    .string()
    .transform((s) => s.normalize('NFC').trim())
    .pipe(
      z
        .string()
        .min(1, { error: 'must not be empty' })
        .max(max, { error: `must be at most ${max} characters` }),
    );

/** Who asked, as the operator names themselves (the CLI sends the OS user); goes into the audit line. */
const requestedBy = text(100).optional();

const forgetBody = z.union(
  [
    z.strictObject({ employeeId: text(128), requestedBy }),
    // The same rule as an event's employee.email (canonical-event.ts); compared lower-cased.
    z.strictObject({
      email: text(320).pipe(z.string().regex(/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/u, 'must be an email address')),
      requestedBy,
    }),
  ],
  { error: 'send {"employeeId": "…"} or {"email": "…"}' },
);

/**
 * POST /forget: erases a person, named by `employeeId` or `email`: their events with their ledger steps,
 * their person records and email links (and, locally, their queued messages and dead letters), leaving one
 * audit line without personal data. 200 with the audit line's counts and whose messages a queue elsewhere
 * should drop (`match`); 409 while an event of theirs is queued or running (its delivery would undo it).
 */
export async function postForget(
  request: IngestRequest,
  deps: IngestDeps,
  _params: string[] = [],
  caller?: Caller,
): Promise<IngestResponse> {
  if (!deps.forget) {
    return problem(501, { error: 'not_implemented', message: 'this deployment cannot forget people' });
  }
  const refused = requireJson(request);
  if (refused) return refused;
  const body = readJson(request.body.toString('utf8'));
  if (!body.ok) return problem(400, { error: 'malformed_json', message: body.message });
  const parsed = forgetBody.safeParse(body.value);
  if (!parsed.success) {
    return problem(400, {
      error: 'invalid_body',
      message: 'send {"employeeId": "…"} or {"email": "…"}, and optionally "requestedBy"',
      issues: issuesOf(parsed.error),
    });
  }
  const { requestedBy: who, ...target } = parsed.data;
  const by = `${caller?.via ?? 'unknown'}${who ? ` (${who})` : ''}`;
  const outcome = await deps.forget(target, by);
  if ('busy' in outcome) {
    return json(409, {
      error: 'person_busy',
      message: `${outcome.busy.length} event(s) of this person are queued or running; forgetting now would be undone when they run. Forget again once they have finished`,
      events: outcome.busy,
    });
  }
  const { personKeys, email } = outcome.subject;
  return json(200, {
    forgotten: outcome.forgotten,
    audit: auditLine(outcome.forgotten),
    // For a queue the server cannot reach (SQS's dead letters, which the CLI purges): whose messages to delete.
    match: { personKeys, ...(email === undefined ? {} : { email }) },
  });
}
