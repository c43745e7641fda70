import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  ACTIVATE_PATH,
  CHANGE_PASSWORD_PATH,
  DEACTIVATE_PATH,
  INVITE_PATH,
  REGISTER_PATH,
  ROLES_PATH,
  USERS_PATH,
  userPath,
  userPermissionsPath,
  userResourcesPath,
  userTeamsPath,
} from '../functions/core/truefoundry/api-contract';
import {
  FaultInjector,
  type FaultSettings,
  interruptsAnswer,
  parseFaultSettings,
  type ScriptedFault,
} from './faults';
import {
  apiError,
  DEFAULT_KNOWN_ROLES,
  type Effect,
  type Outcome,
  parseSeedUser,
  RequestError,
  type SandboxUser,
  type SeedUserInput,
  type SentEmail,
  UserDirectory,
} from './user-directory';

export type SandboxOptions = {
  port?: number;
  host?: string;
  apiKey?: string;
  tenantName?: string;
  knownRoles?: Record<string, string[]>;
  defaultRoles?: string[];
  inviteEnabled?: boolean;
  faults?: FaultSettings;
  seed?: number;
};

export type CallRecord = {
  seq: number;
  at: string;
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** 0 while the request is still being handled (for example held by latency). */
  status: number | 'dropped';
  effect?: Effect;
  emailSent?: boolean;
};

export interface Sandbox {
  readonly url: string;
  readonly apiKey: string;
  calls(): CallRecord[];
  clearCalls(): void;
  users(): SandboxUser[];
  emailsSent(): SentEmail[];
  setFaults(faults: FaultSettings): void;
  setApiKey(apiKey: string): void;
  seedUser(user: SeedUserInput): SandboxUser;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_API_KEY = 'sandbox-api-key';
const OBSERVATION_PREFIX = '/__sandbox';
// A long-running standalone sandbox under load would otherwise grow without bound; tests never come close.
const MAX_CALL_RECORDS = 100_000;

type JsonAnswer = { status: number; body: unknown; headers?: Record<string, string> };
/** An answer to write, or 'drop' to destroy the socket without one. */
type Answer = JsonAnswer | 'drop';

type ParsedBody = { value: unknown; malformed: boolean };

type IncomingApiRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  body: ParsedBody;
  authorization: string | undefined;
};

const STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  422: 'VALIDATION_ERROR',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

const errorAnswer = (
  status: number,
  message: string,
  code = STATUS_CODES[status] ?? `HTTP_${status}`,
): JsonAnswer => ({
  status,
  body: apiError(status, code, message),
});

const outcomeAnswer = (outcome: Outcome): JsonAnswer => ({ status: outcome.status, body: outcome.body });

class CallLog {
  private records: CallRecord[] = [];
  private nextSeq = 1;

  /** Opened on arrival so the log keeps arrival order even when latency makes answers finish out of order. */
  open(request: IncomingApiRequest): CallRecord {
    const record: CallRecord = {
      seq: this.nextSeq++,
      at: new Date().toISOString(),
      method: request.method,
      path: request.path,
      query: request.query,
      body: request.body.value,
      status: 0,
    };
    this.records.push(record);
    if (this.records.length > MAX_CALL_RECORDS * 1.1) this.records = this.records.slice(-MAX_CALL_RECORDS);
    return record;
  }

  snapshot(): CallRecord[] {
    return this.records.map((record) => structuredClone(record));
  }

  clear(): void {
    this.records = [];
  }

  reset(): void {
    this.clear();
    this.nextSeq = 1;
  }
}

// Routing

type ApiRoute = {
  method: string;
  /** The decoded user id for id routes, '' for fixed paths, undefined when the path is not this route's. */
  match: (path: string) => string | undefined;
  handle: (directory: UserDirectory, request: IncomingApiRequest, id: string) => Outcome;
};

const fixedPath = (relative: string) => (path: string) => (path === `/${relative}` ? '' : undefined);

const ID_PLACEHOLDER = 'SANDBOXIDPLACEHOLDER';

/** Builds the matcher from the client's own path function, so a corrected path constant moves the sandbox too. */
const idPath = (template: (id: string) => string) => {
  const [prefix = '', suffix = ''] = `/${template(ID_PLACEHOLDER)}`.split(ID_PLACEHOLDER);
  return (path: string): string | undefined => {
    if (path.length <= prefix.length + suffix.length || !path.startsWith(prefix) || !path.endsWith(suffix)) {
      return undefined;
    }
    const encoded = path.slice(prefix.length, path.length - suffix.length);
    if (encoded.includes('/')) return undefined;
    try {
      return decodeURIComponent(encoded);
    } catch {
      return undefined;
    }
  };
};

// Fixed paths come first: otherwise GET .../users/{id} would also claim them.
const API_ROUTES: ApiRoute[] = [
  { method: 'GET', match: fixedPath(USERS_PATH), handle: (d, r) => d.list(r.query) },
  { method: 'POST', match: fixedPath(REGISTER_PATH), handle: (d, r) => d.register(r.body.value) },
  { method: 'POST', match: fixedPath(INVITE_PATH), handle: (d, r) => d.invite(r.body.value) },
  { method: 'PATCH', match: fixedPath(ROLES_PATH), handle: (d, r) => d.updateRoles(r.body.value) },
  { method: 'PATCH', match: fixedPath(DEACTIVATE_PATH), handle: (d, r) => d.deactivate(r.body.value) },
  { method: 'PATCH', match: fixedPath(ACTIVATE_PATH), handle: (d, r) => d.activate(r.body.value) },
  {
    method: 'POST',
    match: fixedPath(CHANGE_PASSWORD_PATH),
    handle: (d, r) => d.changePassword(r.body.value),
  },
  { method: 'GET', match: idPath(userResourcesPath), handle: (d, _r, id) => d.resources(id) },
  { method: 'GET', match: idPath(userPermissionsPath), handle: (d, _r, id) => d.permissions(id) },
  { method: 'GET', match: idPath(userTeamsPath), handle: (d, _r, id) => d.teams(id) },
  { method: 'GET', match: idPath(userPath), handle: (d, _r, id) => d.get(id) },
  { method: 'DELETE', match: idPath(userPath), handle: (d, r, id) => d.remove(id, r.query) },
];

const dispatch = (directory: UserDirectory, request: IncomingApiRequest): Outcome => {
  for (const route of API_ROUTES) {
    if (route.method !== request.method) continue;
    const id = route.match(request.path);
    if (id === undefined) continue;
    if (request.body.malformed) {
      return { status: 400, body: apiError(400, 'MALFORMED_JSON', 'Request body is not valid JSON') };
    }
    return route.handle(directory, request, id);
  }
  return {
    status: 404,
    body: apiError(404, 'NOT_FOUND', `No route for ${request.method} ${request.path}`),
  };
};

// The sandbox state shared by the API, the observation routes and the programmatic facade

class SandboxRuntime {
  apiKey: string;
  readonly directory: UserDirectory;
  readonly faults: FaultInjector;
  readonly log = new CallLog();
  /** Aborted by close(), so requests held by latency stop waiting instead of keeping the process alive. */
  readonly closing = new AbortController();

  constructor(options: SandboxOptions) {
    this.apiKey = options.apiKey ?? DEFAULT_API_KEY;
    this.faults = new FaultInjector(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.faults.replace(options.faults ?? {});
    this.directory = new UserDirectory({
      tenantName: options.tenantName ?? 'sandbox',
      knownRoles: options.knownRoles ?? DEFAULT_KNOWN_ROLES,
      defaultRoles: options.defaultRoles ?? ['tenant-member'],
      inviteEnabled: options.inviteEnabled ?? true,
      visibilityDelayMs: () => this.faults.visibilityDelayMs,
    });
  }

  setApiKey(apiKey: unknown): void {
    if (typeof apiKey !== 'string' || apiKey.length === 0) {
      throw new RequestError(422, 'VALIDATION_ERROR', '"apiKey" must be a non-empty string');
    }
    this.apiKey = apiKey;
  }

  setFaults(settings: unknown): void {
    try {
      this.faults.replace(parseFaultSettings(settings));
    } catch (error) {
      if (error instanceof TypeError) throw new RequestError(422, 'VALIDATION_ERROR', error.message);
      throw error;
    }
  }

  reset(): void {
    this.directory.reset();
    this.log.reset();
    this.faults.reset();
  }
}

// The API pipeline, in the documented order

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

const scriptedAnswer = (fault: ScriptedFault): Answer => {
  if (fault.drop) return 'drop';
  const status = fault.status ?? 500;
  const answer = errorAnswer(status, `Scripted fault: ${status}`);
  if (fault.retryAfterSeconds === undefined) return answer;
  return { ...answer, headers: { 'retry-after': String(fault.retryAfterSeconds) } };
};

/** Everything that can happen to an API request before and after the handler; returns the answer to write. */
const runApiPipeline = async (
  runtime: SandboxRuntime,
  request: IncomingApiRequest,
  record: CallRecord,
): Promise<Answer | undefined> => {
  const plan = runtime.faults.onArrival(request.method, request.path);
  await sleep(plan.delayMs, runtime.closing.signal);
  if (runtime.closing.signal.aborted) return undefined;

  const retryAfter = runtime.faults.rateLimited();
  if (retryAfter !== undefined) {
    return { ...errorAnswer(429, 'Too many requests'), headers: { 'retry-after': String(retryAfter) } };
  }
  const scripted = plan.scripted && interruptsAnswer(plan.scripted) ? plan.scripted : undefined;
  if (scripted && !scripted.afterEffect) return scriptedAnswer(scripted);
  if (runtime.faults.shouldDrop()) return 'drop';
  const serverError = runtime.faults.serverError();
  if (serverError !== undefined) return errorAnswer(serverError, 'Injected server error');

  const outcome =
    request.authorization === `Bearer ${runtime.apiKey}`
      ? dispatch(runtime.directory, request)
      : { status: 401, body: apiError(401, 'UNAUTHORIZED', 'Unauthorized') };
  if (outcome.effect) record.effect = outcome.effect;
  if (outcome.emailSent) record.emailSent = true;
  // The effect above is already in the table; only the answer is lost or replaced.
  if (scripted?.afterEffect) return scriptedAnswer(scripted);
  return outcomeAnswer(outcome);
};

// Observation routes: no auth, no faults, not logged

type ObservationRoute = (runtime: SandboxRuntime, body: unknown) => Answer;

const done: Answer = { status: 200, body: {} };

const OBSERVATION_ROUTES = new Map<string, ObservationRoute>([
  ['GET /calls', (rt) => ({ status: 200, body: rt.log.snapshot() })],
  [
    'DELETE /calls',
    (rt) => {
      rt.log.clear();
      return done;
    },
  ],
  ['GET /users', (rt) => ({ status: 200, body: rt.directory.users() })],
  ['POST /users', (rt, body) => ({ status: 201, body: rt.directory.seed(parseSeedUser(body)) })],
  ['GET /emails', (rt) => ({ status: 200, body: rt.directory.emailsSent() })],
  ['GET /faults', (rt) => ({ status: 200, body: rt.faults.current() })],
  [
    'PUT /faults',
    (rt, body) => {
      rt.setFaults(body);
      return { status: 200, body: rt.faults.current() };
    },
  ],
  [
    'POST /reset',
    (rt) => {
      rt.reset();
      return done;
    },
  ],
  [
    'PUT /api-key',
    (rt, body) => {
      const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
      rt.setApiKey(fields.apiKey);
      return done;
    },
  ],
]);

const serveObservation = (
  runtime: SandboxRuntime,
  method: string,
  path: string,
  body: ParsedBody,
): Answer => {
  const route = OBSERVATION_ROUTES.get(`${method} ${path.slice(OBSERVATION_PREFIX.length)}`);
  if (!route) return errorAnswer(404, `No sandbox route for ${method} ${path}`);
  if (body.malformed) return errorAnswer(400, 'Request body is not valid JSON', 'MALFORMED_JSON');
  try {
    return route(runtime, body.value);
  } catch (error) {
    if (error instanceof RequestError) return outcomeAnswer(error.toOutcome());
    throw error;
  }
};

// HTTP plumbing

const readBody = async (req: IncomingMessage): Promise<ParsedBody> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { value: undefined, malformed: false };
  try {
    return { value: JSON.parse(text) as unknown, malformed: false };
  } catch {
    return { value: undefined, malformed: true };
  }
};

/** Splits by hand: `new URL('//x', base)` would read a doubled slash as a host, hiding a client bug. */
const splitTarget = (target: string): { path: string; query: Record<string, string> } => {
  const queryStart = target.indexOf('?');
  if (queryStart < 0) return { path: target, query: {} };
  const query: Record<string, string> = {};
  // The first value wins for a repeated parameter, like URLSearchParams.get.
  for (const [name, value] of new URLSearchParams(target.slice(queryStart + 1))) {
    if (!(name in query)) query[name] = value;
  }
  return { path: target.slice(0, queryStart), query };
};

const isObservationPath = (path: string): boolean =>
  path === OBSERVATION_PREFIX || path.startsWith(`${OBSERVATION_PREFIX}/`);

const write = (res: ServerResponse, answer: Answer): void => {
  if (res.destroyed || res.headersSent) return;
  if (answer === 'drop') {
    res.socket?.destroy();
    return;
  }
  const payload = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...answer.headers,
  });
  res.end(payload);
};

const handle = async (runtime: SandboxRuntime, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const method = req.method ?? 'GET';
  const { path, query } = splitTarget(req.url ?? '/');
  const body = await readBody(req);
  if (isObservationPath(path)) {
    write(res, serveObservation(runtime, method, path, body));
    return;
  }
  const request: IncomingApiRequest = { method, path, query, body, authorization: req.headers.authorization };
  const record = runtime.log.open(request);
  const answer = await runApiPipeline(runtime, request, record).catch(
    // A bug in the sandbox must still show in the log as the 500 the client saw.
    (error: unknown) =>
      errorAnswer(500, `Sandbox failure: ${error instanceof Error ? error.message : String(error)}`),
  );
  if (answer === undefined) return;
  record.status = answer === 'drop' ? 'dropped' : answer.status;
  write(res, answer);
};

const listen = (server: ReturnType<typeof createServer>, port: number, host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`Sandbox is not listening on a TCP port: ${String(address)}`));
        return;
      }
      resolve(address.port);
    });
  });

const formatUrl = (host: string, port: number): string =>
  `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const runtime = new SandboxRuntime(options);
  const server = createServer((req, res) => {
    handle(runtime, req, res).catch((error: unknown) => {
      write(
        res,
        errorAnswer(500, `Sandbox failure: ${error instanceof Error ? error.message : String(error)}`),
      );
    });
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 0, host);
  let closed: Promise<void> | undefined;

  return {
    url: formatUrl(host, port),
    get apiKey() {
      return runtime.apiKey;
    },
    calls: () => runtime.log.snapshot(),
    clearCalls: () => runtime.log.clear(),
    users: () => runtime.directory.users(),
    emailsSent: () => runtime.directory.emailsSent(),
    setFaults: (faults) => runtime.setFaults(faults),
    setApiKey: (apiKey) => runtime.setApiKey(apiKey),
    seedUser: (user) => runtime.directory.seed(user),
    reset: () => runtime.reset(),
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        runtime.closing.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets would otherwise hold close() open until their idle timeout.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
