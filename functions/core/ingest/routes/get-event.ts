import type { EventRecord } from '../../engine/ports';
import { EVENT_STATUSES, type EventStatus } from '../../engine/ports';
import { type IngestResponse, json, problem } from '../http';
import type { IngestDeps } from '../ingest-deps';

/** What an operator sees of an event: status first, then what happened step by step. */
export function eventView(record: EventRecord) {
  return {
    id: record.eventId,
    status: record.status,
    type: record.type,
    occurredAt: record.occurredAt,
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
