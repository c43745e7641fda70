import type { CanonicalEvent } from '../../events/canonical-event';
import { EnqueueError } from '../../queue/event-queue';
import { acceptEvents } from '../accept-events';
import { eventsFromBody } from '../events-body';
import { type IngestRequest, type IngestResponse, json, problem } from '../http';
import { findIdConflicts, idConflictCheck, sameInstruction } from '../id-conflicts';
import type { Caller } from '../ingest-app';
import type { IngestDeps } from '../ingest-deps';
import { MAX_EVENTS_BODY_BYTES, mib } from '../limits';
import { policyRefusalsOf, refusedByPolicy } from '../policy-refusals';
import { readJson } from '../read-json';
import { requireJson, requireSize, serviceUnavailable } from './guards';

/** The event source: `webhook` when a Standard Webhooks signature let it in, `token` for the bearer token. */
export const sourceOf = (caller: Caller | undefined): 'webhook' | 'token' =>
  caller?.via === 'signature' ? 'webhook' : 'token';

/**
 * POST /events: one canonical event, an array, or `{ events: [...] }`. Ids are the sender's own, so an id
 * already recorded for another source or for a different event is refused (409), the whole request with
 * nothing recorded, as invalid events are.
 */
export async function postEvents(
  request: IngestRequest,
  deps: IngestDeps,
  _params: string[] = [],
  caller?: Caller,
): Promise<IngestResponse> {
  const SOURCE = sourceOf(caller);
  const refused =
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
