import { silentLog } from '../engine/ports';
import { type RouteAccess, unauthorized } from './admission';
import { type AuthResult, authenticate, type RouteAuth } from './authenticate';
import { type IngestRequest, type IngestResponse, json, problem } from './http';
import type { IngestDeps } from './ingest-deps';
import {
  MAX_BATCH_BODY_BYTES,
  MAX_EVENTS_BODY_BYTES,
  MAX_UNAUTHENTICATED_BODY_BYTES,
  MAX_WEBHOOK_BODY_BYTES,
} from './limits';
import { getEvent, listEvents } from './routes/get-event';
import { postBamboohr } from './routes/post-bamboohr';
import { postBatch } from './routes/post-batch';
import { postEvents } from './routes/post-events';
import { postForget } from './routes/post-forget';
import { checkWebhookId } from './webhook-ids';

type Route = {
  method: string;
  pattern: RegExp;
  /**
   * Who may call it (authenticate.ts, RouteAuth): `ingest` routes take a signature or the bearer token,
   * `operator` routes the bearer token or API Gateway IAM (they must be IAM routes in lib/ingest-api.ts).
   */
  auth: RouteAuth;
  /** The most body a caller who got in may send (read by the local server before the route runs); default 64 KiB. */
  maxBodyBytes?: number;
  /** `own` routes: the header with the route's own signature over the body. */
  bodySignatureHeader?: string;
  handle: (
    request: IngestRequest,
    deps: IngestDeps,
    params: string[],
    caller: Caller | undefined,
  ) => Promise<IngestResponse>;
};

/** Who an `ingest` or `operator` route was authenticated as: decides the event source (`webhook` or `token`). */
export type Caller = Extract<AuthResult, { ok: true }>;

const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/healthz$/, auth: 'none', handle: async () => json(200, { status: 'ok' }) },
  {
    method: 'POST',
    pattern: /^\/events$/,
    auth: 'ingest',
    maxBodyBytes: MAX_EVENTS_BODY_BYTES,
    handle: postEvents,
  },
  { method: 'GET', pattern: /^\/events$/, auth: 'operator', handle: (r, d) => listEvents(r.query, d) },
  {
    method: 'GET',
    pattern: /^\/events\/([^/]+)$/,
    auth: 'operator',
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
  // Erases a person (privacy/forget-person.ts): an operator route, an IAM route on AWS.
  { method: 'POST', pattern: /^\/forget$/, auth: 'operator', handle: postForget },
  {
    method: 'POST',
    pattern: /^\/batch$/,
    auth: 'ingest',
    maxBodyBytes: MAX_BATCH_BODY_BYTES,
    handle: postBatch,
  },
  {
    method: 'POST',
    pattern: /^\/webhooks\/bamboohr$/,
    auth: 'own',
    maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
    bodySignatureHeader: 'x-bamboohr-signature',
    handle: postBamboohr,
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
  const matching = ROUTES.map((r) => ({ route: r, match: r.pattern.exec(request.path) })).filter(
    (m) => m.match,
  );
  if (matching.length === 0) {
    return problem(404, { error: 'not_found', message: `no route ${request.method} ${request.path}` });
  }
  const found = matching.find((m) => m.route.method === request.method);
  if (!found?.match) {
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
  return found.route.handle(request, deps, found.match.slice(1), caller);
}

/**
 * The auth kind and body limit of the route a request is for, from its method and path alone: what the
 * local server needs to decide how much body to read (admission.ts). Undefined: no such route.
 */
export function ingestRouteAccess(method: string, path: string): RouteAccess | undefined {
  const route = ROUTES.find((r) => r.method === method && r.pattern.test(path));
  return (
    route && {
      auth: route.auth,
      maxBodyBytes: route.maxBodyBytes ?? MAX_UNAUTHENTICATED_BODY_BYTES,
      ...(route.bodySignatureHeader ? { bodySignatureHeader: route.bodySignatureHeader } : {}),
    }
  );
}

// decodeURIComponent throws on a stray `%`: that is the caller's mistake (400), not a server error.
function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
