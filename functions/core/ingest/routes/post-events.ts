import { EnqueueError } from '../../queue/event-queue';
import { acceptEvents } from '../accept-events';
import { eventsFromBody } from '../events-body';
import { type IngestRequest, type IngestResponse, json, problem } from '../http';
import type { IngestDeps } from '../ingest-deps';
import { MAX_EVENTS_BODY_BYTES, mib } from '../limits';
import { readJson } from '../read-json';
import { requireJson, requireSize, serviceUnavailable } from './guards';

/** POST /events: one canonical event, an array, or `{ events: [...] }`. */
export async function postEvents(request: IngestRequest, deps: IngestDeps): Promise<IngestResponse> {
  const refused =
    requireSize(request, MAX_EVENTS_BODY_BYTES, `at most ${mib(MAX_EVENTS_BODY_BYTES)} per request`) ??
    requireJson(request);
  if (refused) return refused;
  const body = readJson(request.body.toString('utf8'));
  if (!body.ok) return problem(400, { error: 'malformed_json', message: body.message });
  const parsed = eventsFromBody(body.value);
  if (!parsed.ok) return parsed.response;
  try {
    const events = await acceptEvents(parsed.events, 'events', deps);
    return json(202, { events });
  } catch (error) {
    if (error instanceof EnqueueError) return serviceUnavailable(error, deps);
    throw error;
  }
}
