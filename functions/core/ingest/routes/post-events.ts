import { type CanonicalEvent, EVENT_TYPES, parseCanonicalEvent } from '../../events/canonical-event';
import type { ValidationIssue } from '../../events/validation-issues';
import { EnqueueError } from '../../queue/event-queue';
import {
  acceptEvents,
  findIdConflicts,
  idConflictCheck,
  sameInstruction,
  serviceUnavailable,
} from '../accept-events';
import {
  type ErrorBody,
  type IngestRequest,
  type IngestResponse,
  json,
  MAX_EVENTS_BODY_BYTES,
  mib,
  problem,
  requireJson,
  requireSize,
} from '../http';
import type { Caller, IngestDeps } from '../ingest-deps';
import { policyRefusalsOf, refusedByPolicy } from '../policy-refusals';
import { dryRunOf, previewAnswer, previewUnavailable } from '../preview-response';
import { readJson } from '../read-json';
import { senderFieldsOf, senderRuleIssues } from '../sender-rules';

/** The event source: `webhook` when a Standard Webhooks signature let it in, `token` for the bearer token. */
export const sourceOf = (caller: Caller | undefined): 'webhook' | 'token' =>
  caller?.via === 'signature' ? 'webhook' : 'token';

/**
 * POST /events: one canonical event, an array, or `{ events: [...] }`. Ids are the sender's own, so an id
 * already recorded for another source or for a different event is refused (409), the whole request with
 * nothing recorded, as invalid events are. With `?dryRun=true` the same checks, then a preview of what the
 * worker would write (preview-response.ts): nothing recorded, enqueued or written.
 */
export async function postEvents(
  request: IngestRequest,
  deps: IngestDeps,
  _params: string[] = [],
  caller?: Caller,
): Promise<IngestResponse> {
  const SOURCE = sourceOf(caller);
  // `?dryRun=true`: everything below up to the id check, then a preview instead of accepting.
  const dryRun = dryRunOf(request);
  if (typeof dryRun !== 'boolean') return dryRun;
  const refused =
    (dryRun ? previewUnavailable(deps) : undefined) ??
    requireSize(request, MAX_EVENTS_BODY_BYTES, `at most ${mib(MAX_EVENTS_BODY_BYTES)} per request`) ??
    requireJson(request);
  if (refused) return refused;
  const body = readJson(request.body.toString('utf8'));
  if (!body.ok) return problem(400, { error: 'malformed_json', message: body.message });
  const parsed = eventsFromBody(body.value, (deps.now ?? Date.now)());
  if (!parsed.ok) return parsed.response;
  const refusals = policyRefusalsOf(parsed.events, SOURCE, deps.policy);
  if (refusals.length > 0) return refusedByPolicy(refusals, parsed.events.length > 1);

  const repeated = differentEventsUnderOneId(parsed.events);
  if (repeated) return conflict([repeated]);
  const check = idConflictCheck(
    SOURCE,
    parsed.events.map((event) => ({ event })),
  );
  const known = await findIdConflicts(parsed.events, check, deps.store);
  if (known.size > 0) return conflict([...known.values()]);
  if (dryRun)
    return previewAnswer(
      parsed.events.map((event) => ({ event })),
      [],
      deps,
    );
  try {
    const events = await acceptEvents(parsed.events, SOURCE, deps, check);
    // Another request recorded one of the ids since the check: the rest of this request was accepted.
    const late = events.flatMap((e) => (e.conflict === undefined ? [] : [e.conflict]));
    if (late.length > 0)
      return conflict([...new Set(late)], 'the other events of this request were accepted');
    return json(202, { events });
  } catch (error) {
    if (error instanceof EnqueueError) return serviceUnavailable(error, deps);
    throw error;
  }
}

/** One request that says two different things under one id is refused like an id used before. */
function differentEventsUnderOneId(events: readonly CanonicalEvent[]): string | undefined {
  const first = new Map<string, CanonicalEvent>();
  for (const event of events) {
    const earlier = first.get(event.id);
    if (earlier === undefined) first.set(event.id, event);
    else if (!sameInstruction(earlier, event, false)) {
      return `id ${event.id} is used for two different events in this request; an id names one instruction`;
    }
  }
  return undefined;
}

function conflict(messages: string[], after = 'nothing was accepted'): IngestResponse {
  return problem(409, { error: 'id_conflict', message: `${messages.join('; ')}; ${after}` });
}

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
