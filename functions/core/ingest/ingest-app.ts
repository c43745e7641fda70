import { silentLog } from '../engine/ports';
import { type AuthResult, authenticate } from './authenticate';
import { type IngestRequest, type IngestResponse, json, problem } from './http';
import type { IngestDeps } from './ingest-deps';
import { getEvent, listEvents } from './routes/get-event';
import { postBamboohr } from './routes/post-bamboohr';
import { postBatch } from './routes/post-batch';
import { postEvents } from './routes/post-events';

type Route = {
  method: string;
  pattern: RegExp;
  /** `caller`: signature or bearer token (or API Gateway IAM); `own`: the route checks its own signature. */
  auth: 'none' | 'caller' | 'own';
  handle: (
    request: IngestRequest,
    deps: IngestDeps,
    params: string[],
    caller: Caller | undefined,
  ) => Promise<IngestResponse>;
};

/** Who a `caller` route was authenticated as: decides the event source (`webhook` or `token`). */
export type Caller = Extract<AuthResult, { ok: true }>;

const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/healthz$/, auth: 'none', handle: async () => json(200, { status: 'ok' }) },
  { method: 'POST', pattern: /^\/events$/, auth: 'caller', handle: postEvents },
  { method: 'GET', pattern: /^\/events$/, auth: 'caller', handle: (r, d) => listEvents(r.query, d) },
  {
    method: 'GET',
    pattern: /^\/events\/([^/]+)$/,
    auth: 'caller',
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
  { method: 'POST', pattern: /^\/batch$/, auth: 'caller', handle: postBatch },
  { method: 'POST', pattern: /^\/webhooks\/bamboohr$/, auth: 'own', handle: postBamboohr },
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
  if (found.route.auth === 'caller') {
    const auth = authenticate(request, await deps.credentials());
    if (!auth.ok) {
      return problem(401, { error: 'unauthorized', message: auth.reason }, { 'www-authenticate': 'Bearer' });
    }
    caller = auth;
  }
  return found.route.handle(request, deps, found.match.slice(1), caller);
}

// decodeURIComponent throws on a stray `%`: that is the caller's mistake (400), not a server error.
function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
