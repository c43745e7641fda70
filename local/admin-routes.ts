import type { EventStore } from '../functions/core/engine/ports';
import { type RouteAccess, unauthorized } from '../functions/core/ingest/admission';
import { authenticate, type IngestCredentials } from '../functions/core/ingest/authenticate';
import { type IngestRequest, type IngestResponse, json, problem } from '../functions/core/ingest/http';
import { readJson } from '../functions/core/ingest/read-json';
import type { SqliteEventQueue } from './sqlite-event-queue';

export type AdminDeps = {
  queue: SqliteEventQueue;
  events: EventStore;
  credentials: () => Promise<IngestCredentials>;
  health: () => Record<string, unknown>;
};

/**
 * Routes only the local runtime has: its health with queue depth, and its dead-letter store. On AWS the
 * dead-letter queue is SQS, which the CLI reads with the AWS SDK instead.
 */
export async function handleAdmin(
  request: IngestRequest,
  deps: AdminDeps,
): Promise<IngestResponse | undefined> {
  if (request.method === 'GET' && request.path === '/healthz')
    return json(200, { status: 'ok', ...deps.health() });
  if (request.path !== '/dlq' && request.path !== '/dlq/redrive') return undefined;
  // Operator routes: the bearer token only, never a webhook signature (authenticate.ts, RouteAuth).
  const auth = authenticate(request, await deps.credentials(), 'operator');
  if (!auth.ok) return unauthorized(auth.reason);

  if (request.method === 'GET' && request.path === '/dlq') {
    const letters = deps.queue.deadLetters();
    return json(200, {
      deadLetters: letters.map(({ eventId, groupId, reason, deadAt, receiveCount }) => ({
        eventId,
        employeeKey: groupId,
        reason,
        deadAt,
        receiveCount,
      })),
    });
  }
  if (request.method === 'POST' && request.path === '/dlq/redrive') {
    const body =
      request.body.length === 0 ? { ok: true as const, value: {} } : readJson(request.body.toString('utf8'));
    if (!body.ok) return problem(400, { error: 'malformed_json', message: body.message });
    const ids = (body.value as { ids?: unknown }).ids;
    if (ids !== undefined && (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))) {
      return problem(400, { error: 'invalid_body', message: '"ids" must be an array of event ids' });
    }
    const redriven = deps.queue.redrive(ids as string[] | undefined);
    return json(202, { redriven: redriven.map((l) => l.eventId) });
  }
  return problem(405, {
    error: 'method_not_allowed',
    message: `${request.method} ${request.path} is not supported`,
  });
}

/** The admin routes' auth kinds, for the local server's reading of bodies (admission.ts); undefined: not ours. */
export function adminRouteAccess(method: string, path: string): RouteAccess | undefined {
  if (method === 'GET' && path === '/healthz') return { auth: 'none', maxBodyBytes: 1024 };
  if (path === '/dlq' || path === '/dlq/redrive') return { auth: 'operator', maxBodyBytes: 64 * 1024 };
  return undefined;
}
