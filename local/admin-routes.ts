import type { SqliteEventQueue } from '../functions/core/adapters/sqlite/sqlite-event-queue';
import type { EventStore } from '../functions/core/engine/ports';
import { type RouteAccess, unauthorized } from '../functions/core/ingest/admission';
import { authenticate, type IngestCredentials } from '../functions/core/ingest/authenticate';
import { type IngestRequest, type IngestResponse, json, problem } from '../functions/core/ingest/http';
import { paramsOf, ROUTE_TABLE, type Route, routeAccess } from '../functions/core/ingest/ingest-app';
import { readJson } from '../functions/core/ingest/read-json';

export type AdminDeps = {
  queue: SqliteEventQueue;
  events: EventStore;
  credentials: () => Promise<IngestCredentials>;
  health: () => Record<string, unknown>;
};

/** A route of the ingest app's table; the admin routes take its place where they share a method and path. */
const ingestRoute = (method: Route['method'], path: string): Route => {
  const route = ROUTE_TABLE.find((r) => r.method === method && r.path === path);
  if (route === undefined) throw new Error(`the ingest app has no route ${method} ${path}`);
  return route;
};

/**
 * Routes only the local runtime has, in the shape of the ingest app's route table: its health with queue
 * depth, and its dead-letter store. On AWS the dead-letter queue is SQS, which the CLI reads with the AWS
 * SDK instead.
 */
const ADMIN_ROUTES: readonly Route<AdminDeps>[] = [
  {
    // The ingest app's health check, answered with the runtime's own health; a probe sends no body.
    ...ingestRoute('GET', '/healthz'),
    maxBodyBytes: 1024,
    description: 'liveness probe, with the queue depth and busy workers',
    handle: async (_request, deps) => json(200, { status: 'ok', ...deps.health() }),
  },
  {
    method: 'GET',
    path: '/dlq',
    auth: 'operator',
    description: 'the dead letters',
    handle: async (_request, deps) => {
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
    },
  },
  {
    method: 'POST',
    path: '/dlq/redrive',
    auth: 'operator',
    description: 'queue dead letters again: all, or {"ids": [...]}',
    handle: async (request, deps) => {
      const body =
        request.body.length === 0
          ? { ok: true as const, value: {} }
          : readJson(request.body.toString('utf8'));
      if (!body.ok) return problem(400, { error: 'malformed_json', message: body.message });
      const ids = (body.value as { ids?: unknown }).ids;
      if (ids !== undefined && (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))) {
        return problem(400, { error: 'invalid_body', message: '"ids" must be an array of event ids' });
      }
      const redriven = deps.queue.redrive(ids as string[] | undefined);
      return json(202, { redriven: redriven.map((l) => l.eventId) });
    },
  },
];

/** Every route the local runtime answers, for its banner: the ingest app's, where needed the admin ones in their place, then the admin ones. */
export const LOCAL_ROUTES: readonly Pick<Route, 'method' | 'path' | 'description'>[] = [
  ...ROUTE_TABLE.map(
    (route) => ADMIN_ROUTES.find((r) => r.method === route.method && r.path === route.path) ?? route,
  ),
  ...ADMIN_ROUTES.filter(
    (admin) => !ROUTE_TABLE.some((r) => r.method === admin.method && r.path === admin.path),
  ),
];

/**
 * The admin route a request is for. An operator route's path is the admin's whatever the method (it is
 * authenticated, then answered 405); another method on /healthz is left to the ingest app, which answers 405.
 */
function adminRouteFor(method: string, path: string): Route<AdminDeps> | undefined {
  return (
    ADMIN_ROUTES.find((r) => r.method === method && paramsOf(r, path) !== undefined) ??
    ADMIN_ROUTES.find((r) => r.auth === 'operator' && paramsOf(r, path) !== undefined)
  );
}

/** Answers an admin route; undefined: not one of them, the ingest app answers. */
export async function handleAdmin(
  request: IngestRequest,
  deps: AdminDeps,
): Promise<IngestResponse | undefined> {
  const route = adminRouteFor(request.method, request.path);
  if (route === undefined) return undefined;
  if (route.auth === 'none') return route.handle(request, deps, [], undefined);
  // Operator routes: the bearer token only, never a webhook signature (authenticate.ts, RouteAuth).
  const auth = authenticate(request, await deps.credentials(), 'operator');
  if (!auth.ok) return unauthorized(auth.reason);
  if (route.method !== request.method) {
    return problem(405, {
      error: 'method_not_allowed',
      message: `${request.method} ${request.path} is not supported`,
    });
  }
  return route.handle(request, deps, paramsOf(route, request.path) ?? [], auth);
}

/** The admin routes' auth kinds, for the local server's reading of bodies (admission.ts); undefined: not ours. */
export function adminRouteAccess(method: string, path: string): RouteAccess | undefined {
  const route = adminRouteFor(method, path);
  return route && routeAccess(route);
}
