import { silentLog } from '../engine/ports';
import { type RouteAccess, unauthorized } from './admission';
import { authenticate, type RouteAuth } from './authenticate';
import {
  type IngestRequest,
  type IngestResponse,
  json,
  MAX_BATCH_BODY_BYTES,
  MAX_EVENTS_BODY_BYTES,
  MAX_UNAUTHENTICATED_BODY_BYTES,
  MAX_WEBHOOK_BODY_BYTES,
  problem,
} from './http';
import type { Caller, IngestDeps } from './ingest-deps';
import { deleteEvent } from './routes/cancel';
import { getHolds, postHoldsReject, postHoldsRelease } from './routes/holds';
import { getEvent, listEvents, postForget } from './routes/operator';
import { postBamboohr } from './routes/post-bamboohr';
import { postBatch } from './routes/post-batch';
import { postEvents } from './routes/post-events';
import { postReconcile } from './routes/reconcile';
import { checkWebhookId } from './webhook-ids';

/**
 * A route as data. The ingest app routes by it, lib/ingest-api.ts makes API Gateway's resources and methods
 * of it, and the local runtime lists it in its banner and adds its own routes in the same shape
 * (local/admin-routes.ts).
 */
export type Route<Deps = IngestDeps> = {
  method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway's resource path: each `{name}` is one path segment, handed to `handle` in order. */
  path: string;
  /**
   * Who may call it (authenticate.ts, RouteAuth): `ingest` routes take a signature or the bearer token,
   * `operator` routes the bearer token or API Gateway IAM (lib/ingest-api.ts makes them the IAM routes,
   * served by the operator λ).
   */
  auth: RouteAuth;
  /** The most body a caller who got in may send (read by the local server before the route runs); default 64 KiB. */
  maxBodyBytes?: number;
  /** `own` routes: the header with the route's own signature over the body. */
  bodySignatureHeader?: string;
  /** What the route is for, in a few words (the local runtime's banner lists it). */
  description: string;
  handle: (
    request: IngestRequest,
    deps: Deps,
    params: string[],
    caller: Caller | undefined,
  ) => Promise<IngestResponse>;
};

/** Every route of the ingest app; API Gateway's resources and methods are made in this order. */
export const ROUTE_TABLE: readonly Route[] = [
  {
    method: 'POST',
    path: '/events',
    auth: 'ingest',
    maxBodyBytes: MAX_EVENTS_BODY_BYTES,
    description: 'canonical events: one, an array, or {"events": [...]}',
    handle: postEvents,
  },
  {
    method: 'POST',
    path: '/batch',
    auth: 'ingest',
    maxBodyBytes: MAX_BATCH_BODY_BYTES,
    description: 'a CSV or JSON Lines file of events',
    handle: postBatch,
  },
  {
    method: 'POST',
    path: '/webhooks/bamboohr',
    auth: 'own',
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    bodySignatureHeader: 'x-bamboohr-signature',
    description: 'BambooHR global webhooks, signed with their own key',
    handle: postBamboohr,
  },
  {
    method: 'GET',
    path: '/events',
    auth: 'operator',
    description: 'events, by status, a page at a time',
    handle: (r, d) => listEvents(r.query, d),
  },
  {
    method: 'GET',
    path: '/events/{id}',
    auth: 'operator',
    description: "an event's status and steps",
    handle: (_r, d, [id]) => {
      const eventId = decodePathSegment(id ?? '');
      return eventId === undefined
        ? Promise.resolve(
            problem(400, {
              error: 'invalid_path',
              message: 'the event id in the path is not valid percent-encoding',
            }),
          )
        : getEvent(eventId, d);
    },
  },
  // Cancels a scheduled or held event (schedule/cancel-event.ts): an operator route, an IAM route on AWS.
  {
    method: 'DELETE',
    path: '/events/{id}',
    auth: 'operator',
    description: 'cancel a scheduled or held event',
    handle: (r, d, [id], caller) => {
      const eventId = decodePathSegment(id ?? '');
      return eventId === undefined
        ? Promise.resolve(
            problem(400, {
              error: 'invalid_path',
              message: 'the event id in the path is not valid percent-encoding',
            }),
          )
        : deleteEvent(r, d, eventId, caller);
    },
  },
  // Erases a person (privacy/forget-person.ts): an operator route, an IAM route on AWS.
  {
    method: 'POST',
    path: '/forget',
    auth: 'operator',
    description: "erase a person's data",
    handle: postForget,
  },
  // The roster against TrueFoundry (reconcile/): reads TrueFoundry, and with ?apply=true submits events.
  {
    method: 'POST',
    path: '/reconcile',
    auth: 'operator',
    maxBodyBytes: MAX_BATCH_BODY_BYTES,
    description: 'a roster (CSV) compared with TrueFoundry; ?apply=true converges',
    handle: postReconcile,
  },
  // The offboarding guard's held events (core/holds/holds-operator.ts): operator routes, IAM routes on AWS.
  {
    method: 'GET',
    path: '/holds',
    auth: 'operator',
    description: 'offboards (and later events) held by the offboarding guard',
    handle: (_r, d) => getHolds(d),
  },
  {
    method: 'POST',
    path: '/holds/release',
    auth: 'operator',
    description: 'release held events: {"ids": [...]} or {"all": true}',
    handle: postHoldsRelease,
  },
  {
    method: 'POST',
    path: '/holds/reject',
    auth: 'operator',
    description: 'reject held events: {"ids": [...]}',
    handle: postHoldsReject,
  },
  {
    method: 'GET',
    path: '/healthz',
    auth: 'none',
    description: 'liveness probe',
    handle: async () => json(200, { status: 'ok' }),
  },
];

/**
 * The ingest front door, the same on API Gateway and locally: authenticate, validate, normalise, record,
 * enqueue, answer. It never calls TrueFoundry.
 */
export function createIngestApp(deps: IngestDeps): (request: IngestRequest) => Promise<IngestResponse> {
  const log = deps.log ?? silentLog;
  return async (request) => {
    const started = performance.now();
    const response = await route(request, deps).catch((error: unknown) => {
      log.error('ingest request failed', {
        path: request.path,
        error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
      });
      return problem(500, {
        error: 'internal_error',
        message: 'the request could not be handled; retry it later',
      });
    });
    log.info('ingest request', {
      method: request.method,
      path: request.path,
      status: response.status,
      durationMs: Math.round(performance.now() - started),
    });
    return response;
  };
}

async function route(request: IngestRequest, deps: IngestDeps): Promise<IngestResponse> {
  const matching = ROUTE_TABLE.flatMap((r) => {
    const params = paramsOf(r, request.path);
    return params === undefined ? [] : [{ route: r, params }];
  });
  if (matching.length === 0) {
    return problem(404, { error: 'not_found', message: `no route ${request.method} ${request.path}` });
  }
  const found = matching.find((m) => m.route.method === request.method);
  if (!found) {
    const allowed = matching.map((m) => m.route.method);
    return problem(
      405,
      { error: 'method_not_allowed', message: `${request.path} takes ${allowed.join(', ')}`, allowed },
      { allow: allowed.join(', ') },
    );
  }
  let caller: Caller | undefined;
  const kind = found.route.auth;
  if (kind === 'ingest' || kind === 'operator') {
    // A caller API Gateway authorised with IAM needs no secret: the operator λ may not even read it.
    const gatewayOperator = kind === 'operator' && request.gatewayAuthorized === true;
    const auth = authenticate(request, gatewayOperator ? {} : await deps.credentials(), kind);
    if (!auth.ok) return unauthorized(auth.reason);
    if (auth.via === 'signature') {
      const reused = await checkWebhookId(request, deps.webhookIds, (deps.now ?? Date.now)());
      if (reused) return reused;
    }
    caller = auth;
  }
  return found.route.handle(request, deps, found.params, caller);
}

/**
 * The auth kind and body limit of the route a request is for, from its method and path alone: what the
 * local server needs to decide how much body to read (admission.ts). Undefined: no such route.
 */
export function ingestRouteAccess(method: string, path: string): RouteAccess | undefined {
  const route = ROUTE_TABLE.find((r) => r.method === method && paramsOf(r, path) !== undefined);
  return route && routeAccess(route);
}

/** How a route is entered (admission.ts): its auth kind, its body limit (64 KiB unless it says), its signature header. */
export function routeAccess(
  route: Pick<Route, 'auth' | 'maxBodyBytes' | 'bodySignatureHeader'>,
): RouteAccess {
  return {
    auth: route.auth,
    maxBodyBytes: route.maxBodyBytes ?? MAX_UNAUTHENTICATED_BODY_BYTES,
    ...(route.bodySignatureHeader ? { bodySignatureHeader: route.bodySignatureHeader } : {}),
  };
}

const patterns = new Map<string, RegExp>();

/**
 * The path parameters when `route` serves `path` (`/events/{id}` serves `/events/a`: `['a']`), else
 * undefined. Matched whole, each `{name}` one non-empty segment; the patterns are made once per route path.
 */
export function paramsOf(route: Pick<Route, 'path'>, path: string): string[] | undefined {
  let pattern = patterns.get(route.path);
  if (pattern === undefined) {
    const segments = route.path
      .split('/')
      .map((segment) =>
        /^\{[^}]+\}$/.test(segment) ? '([^/]+)' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      );
    pattern = new RegExp(`^${segments.join('\\/')}$`);
    patterns.set(route.path, pattern);
  }
  return pattern.exec(path)?.slice(1);
}

// decodeURIComponent throws on a stray `%`: that is the caller's mistake (400), not a server error.
function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
