import { type IngestRequest, type IngestResponse, json, problem } from '../http';
import type { Caller, IngestDeps } from '../ingest-deps';
import { eventView } from './operator';

/**
 * DELETE /events/{id}: cancels a `scheduled` or `held` event (it ends `cancelled`, with no call). An event
 * that ran, runs or waits in the queue is answered 409 with its status; one cancelled already, 200 again, so
 * an operator's retry is safe. `?requestedBy=NAME` goes into the record's note, as with forget.
 */
export async function deleteEvent(
  request: IngestRequest,
  deps: IngestDeps,
  eventId: string,
  caller?: Caller,
): Promise<IngestResponse> {
  if (!deps.schedule) {
    return problem(501, { error: 'not_implemented', message: 'this deployment cannot cancel events' });
  }
  const who = request.query.requestedBy?.trim().slice(0, 200);
  const by = `an operator (${caller?.via ?? 'unknown'}${who ? `, ${who}` : ''})`;
  const outcome = await deps.schedule.cancel(eventId, by);
  if (outcome.cancelled) return json(200, eventView(outcome.record));
  if (outcome.reason === 'not_found') {
    return problem(404, { error: 'not_found', message: `no event with id "${eventId}" was ever accepted` });
  }
  if (outcome.status === 'cancelled') return json(200, eventView(outcome.record));
  return problem(409, {
    error: 'not_cancellable',
    message: `event ${eventId} is ${outcome.status}: only a scheduled or held event can be cancelled, and this one ${describe(outcome.status)}`,
    status: outcome.status,
  });
}

const describe = (status: string): string =>
  status === 'queued' || status === 'running'
    ? 'is already in the queue, on its way to TrueFoundry'
    : 'has already run';
