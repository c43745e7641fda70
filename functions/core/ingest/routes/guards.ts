import type { EnqueueError } from '../../queue/event-queue';
import { type IngestRequest, type IngestResponse, mediaTypeOf, problem } from '../http';
import type { IngestDeps } from '../ingest-deps';

export function requireSize(
  request: IngestRequest,
  maxBytes: number,
  rule: string,
): IngestResponse | undefined {
  if (request.body.length <= maxBytes) return undefined;
  return problem(413, {
    error: 'body_too_large',
    message: `the body is ${request.body.length} bytes; ${rule}`,
  });
}

export function requireJson(request: IngestRequest): IngestResponse | undefined {
  const type = mediaTypeOf(request);
  if (type === 'application/json' || type?.endsWith('+json')) return undefined;
  return problem(415, {
    error: 'unsupported_media_type',
    message: `send Content-Type: application/json (got ${type ?? 'none'})`,
    allowed: ['application/json'],
  });
}

/** The queue refused: nothing is lost (the events are recorded, not confirmed), the sender retries. */
export function serviceUnavailable(error: EnqueueError, deps: IngestDeps): IngestResponse {
  deps.log?.error('enqueue failed', { failed: error.failedEventIds.length, reason: error.message });
  if (error.permanent) {
    // A retry would be refused the same way: the sender has to change the event, not wait.
    return problem(422, {
      error: 'unqueueable',
      message: `the queue refused ${error.rejected.size} event(s) as invalid; they are recorded as failed`,
      events: [...error.rejected].map(([id, reason]) => ({ id, error: reason })),
    });
  }
  return problem(
    503,
    { error: 'queue_unavailable', message: 'the events could not be queued; retry the same request' },
    { 'retry-after': '5' },
  );
}
