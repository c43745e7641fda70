import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { sameSecret } from '../functions/core/ingest/authenticate';
import type { ApiDefinition, ApiRoute } from './api-routes';
import { type Emit, type InvokeResult, MAX_REQUEST_BYTES } from './invoke';
import { proxyEvent } from './proxy-event';

/** API Gateway's own limit on a request body. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export type ApiGatewayOptions = {
  api: ApiDefinition;
  region: string;
  account: string;
  invoke: (functionLogicalId: string, event: APIGatewayProxyEvent) => Promise<InvokeResult>;
  /** The stand-in for SigV4 on AWS_IAM routes: a caller presenting this bearer token is the operator. */
  operatorToken: () => Promise<string | undefined>;
  emit: Emit;
};

type Answer = { status: number; headers: Record<string, string | string[]>; body: Buffer | string };

/**
 * API Gateway (REST API, Lambda proxy integrations) over node:http: each request becomes the v1 proxy event
 * the stage would hand the route's function, served at `/` and at `/<stage>/`. What API Gateway itself
 * answers, it answers in its own words: 403 "Missing Authentication Token" for a route the API does not have
 * or an unsigned IAM route, 429 past the stage's throttling, 413 past 10 MB, 502 for a function that failed
 * or answered something that is not a proxy result, 504 after the integration timeout (29 s).
 */
export async function startApiGateway(
  options: ApiGatewayOptions,
  port: number,
  host: string,
): Promise<{ server: Server; url: string }> {
  const buckets = new Map<ApiRoute, TokenBucket>();
  const server = createServer((req, res) => {
    void handle(req, options, buckets).then(
      (answer) => send(res, answer),
      (error: unknown) => {
        options.emit('ERROR', 'the API gateway failed', { error: String(error) });
        send(res, gatewayError(500, 'Internal server error', 'InternalServerErrorException'));
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { server, url: `http://${shownHost}:${address.port}` };
}

async function handle(
  req: IncomingMessage,
  options: ApiGatewayOptions,
  buckets: Map<ApiRoute, TokenBucket>,
): Promise<Answer> {
  const { api } = options;
  const url = new URL(req.url ?? '/', 'http://emulate');
  const stagePrefix = `/${api.stageName}`;
  const rawPath =
    url.pathname.startsWith(`${stagePrefix}/`) || url.pathname === stagePrefix
      ? url.pathname.slice(stagePrefix.length) || '/'
      : url.pathname;
  const method = req.method ?? 'GET';
  const found = api.routes
    .filter((route) => route.method === method || route.method === 'ANY')
    .map((route) => ({ route, params: route.match(rawPath) }))
    .find((candidate) => candidate.params !== undefined);
  if (!found?.params) return missingToken();
  const { route, params } = found;

  if (route.throttle && !buckets.has(route)) {
    buckets.set(route, new TokenBucket(route.throttle.rate, route.throttle.burst));
  }
  const bucket = buckets.get(route);
  if (bucket && !bucket.take()) return gatewayError(429, 'Too Many Requests', 'TooManyRequestsException');

  let identity: 'operator' | undefined;
  if (route.iam) {
    const verdict = await iamStandIn(req.headers.authorization, await options.operatorToken());
    if (verdict !== 'operator') return verdict;
    identity = verdict;
  }

  const body = await readBody(req);
  if (body === 'too-large') return gatewayError(413, 'Request Too Long', 'RequestTooLargeException');
  const requestId = randomUUID();
  const event = proxyEvent(req, {
    url,
    rawPath,
    route,
    params,
    body,
    requestId,
    identity,
    api: options.api,
    account: options.account,
  });
  if (Buffer.byteLength(JSON.stringify(event)) > MAX_REQUEST_BYTES) {
    // Lambda refuses a synchronous request over 6 MB before the function runs.
    return gatewayError(413, 'Request Too Long', 'RequestTooLargeException');
  }
  const started = Date.now();
  const result = await Promise.race([
    options.invoke(route.functionLogicalId, event),
    new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), route.integrationTimeoutMs).unref(),
    ),
  ]);
  const answer =
    result === 'timeout'
      ? gatewayError(504, 'Endpoint request timed out', 'IntegrationTimeout')
      : proxyAnswer(result, options.emit);
  answer.headers['x-amzn-RequestId'] = requestId;
  answer.headers['x-amz-apigw-id'] = randomBytes(6).toString('base64url');
  options.emit('DEBUG', 'api access', {
    requestId,
    httpMethod: method,
    resourcePath: route.resource,
    status: answer.status,
    integrationLatency: Date.now() - started,
  });
  return answer;
}

/** Only callers with the ingest token pass an IAM route: the emulator's stand-in for a valid SigV4 signature. */
async function iamStandIn(
  authorization: string | undefined,
  token: string | undefined,
): Promise<'operator' | Answer> {
  if (!authorization) return missingToken();
  const presented = /^Bearer\s+(.+)$/i.exec(authorization.trim())?.[1];
  // The ingest app's own comparison: digests of both, so a length mismatch takes the same time as any other.
  const matches = presented !== undefined && token !== undefined && sameSecret(presented, token);
  return matches
    ? 'operator'
    : gatewayError(
        403,
        'The security token included in the request is invalid.',
        'UnrecognizedClientException',
      );
}

/** The function's proxy result as HTTP; anything else is API Gateway's 502. */
function proxyAnswer(result: InvokeResult, emit: Emit): Answer {
  if (!result.ok) {
    emit('WARN', 'the function failed: API Gateway answers 502', {
      errorType: result.errorType,
      errorMessage: result.errorMessage,
    });
    return gatewayError(502, 'Internal server error', 'InternalServerErrorException');
  }
  const payload = result.payload as Record<string, unknown> | null;
  const statusCode = payload?.statusCode;
  if (
    payload === null ||
    typeof payload !== 'object' ||
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode)
  ) {
    emit('WARN', 'the function answered no proxy result: API Gateway answers 502', {
      payload: JSON.stringify(payload).slice(0, 200),
    });
    return gatewayError(502, 'Internal server error', 'InternalServerErrorException');
  }
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries((payload.headers ?? {}) as Record<string, unknown>))
    headers[name] = String(value);
  for (const [name, values] of Object.entries(
    (payload.multiValueHeaders ?? {}) as Record<string, unknown[]>,
  )) {
    headers[name] = values.map(String);
  }
  const text = typeof payload.body === 'string' ? payload.body : '';
  return { status: statusCode, headers, body: payload.isBase64Encoded ? Buffer.from(text, 'base64') : text };
}

function missingToken(): Answer {
  return gatewayError(403, 'Missing Authentication Token', 'MissingAuthenticationTokenException');
}

function gatewayError(status: number, message: string, errorType: string): Answer {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-ErrorType': errorType },
    body: JSON.stringify({ message }),
  };
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.headersSent) return;
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        resolve('too-large');
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The stage's throttling of one method: a steady rate and a burst, as API Gateway's token bucket. */
class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
