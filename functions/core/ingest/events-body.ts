import { type CanonicalEvent, EVENT_TYPES, parseCanonicalEvent } from '../events/canonical-event';
import type { ValidationIssue } from '../events/validation-issues';
import { type ErrorBody, type IngestResponse, problem } from './http';
import { senderFieldsOf, senderRuleIssues } from './sender-rules';

export const MAX_EVENTS_PER_REQUEST = 500;
/** Well under SQS's message limit, and far above any real HR event. */
export const MAX_EVENT_BYTES = 64 * 1024;

export type EventsBodyResult =
  | { ok: true; events: CanonicalEvent[] }
  | { ok: false; response: IngestResponse };

/**
 * Accepts one canonical event, a JSON array of them, or `{ "events": [...] }`. All or nothing: one invalid
 * event rejects the request, with every problem of every event named, so the sender fixes them in one go.
 * Besides the schema, an id in a derived namespace or an `occurredAt` later than `nowMs` allows is invalid.
 */
export function eventsFromBody(body: unknown, nowMs: number): EventsBodyResult {
  const wrapped = typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body;
  const items: unknown = wrapped ? (body as { events: unknown }).events : body;
  if (wrapped && !Array.isArray(items)) {
    return fail(400, { error: 'invalid_body', message: '"events" must be an array of events' });
  }
  const list = Array.isArray(items) ? items : [items];
  if (list.length === 0) return fail(400, { error: 'invalid_body', message: 'the request holds no events' });
  if (list.length > MAX_EVENTS_PER_REQUEST) {
    return fail(413, {
      error: 'too_many_events',
      message: `at most ${MAX_EVENTS_PER_REQUEST} events per request, got ${list.length}; send them in several requests or use POST /batch`,
    });
  }
  const many = Array.isArray(items);
  const events: CanonicalEvent[] = [];
  const issues: (ValidationIssue & { event?: number })[] = [];
  list.forEach((item, index) => {
    const prefix = many ? `${wrapped ? 'events' : ''}[${index}]` : '';
    if (JSON.stringify(item).length > MAX_EVENT_BYTES) {
      issues.push({
        ...(many ? { event: index } : {}),
        path: prefix,
        message: `is larger than ${MAX_EVENT_BYTES / 1024} KiB`,
      });
      return;
    }
    const parsed = parseCanonicalEvent(item);
    const schemaIssues = parsed.ok ? [] : parsed.issues;
    const itemIssues = [...schemaIssues, ...senderRuleIssues(senderFieldsOf(item), nowMs, schemaIssues)];
    if (parsed.ok && itemIssues.length === 0) events.push(parsed.event);
    for (const issue of itemIssues) {
      const path = [prefix, issue.path].filter((p) => p !== '').join('.');
      issues.push({ ...(many ? { event: index } : {}), path, message: issue.message });
    }
  });
  if (issues.length === 0) return { ok: true, events };
  const unknownType = issues.some((i) => i.path.endsWith('type') && i.message.startsWith('must be one of'));
  return fail(400, {
    error: 'invalid_event',
    message: `${issues.length} problem(s): ${issues.map((i) => `${i.path || 'body'}: ${i.message}`).join('; ')}`,
    issues,
    ...(unknownType ? { allowed: EVENT_TYPES } : {}),
  });
}

const fail = (status: number, body: ErrorBody): EventsBodyResult => ({
  ok: false,
  response: problem(status, body),
});
