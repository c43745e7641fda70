import type { Server } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiGateway } from '../../emulate/api-gateway';
import { type ApiDefinition, type ApiRoute, pathMatcher } from '../../emulate/api-routes';
import type { InvokeResult } from '../../emulate/invoke';

/*
 * The emulated API Gateway alone, in front of a stand-in function: the v1 proxy event it builds, and what it
 * answers itself (IAM stand-in, unknown routes, throttling, a failed function, the integration timeout).
 */

const TOKEN = 'operator-token-0123456789';
let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

function route(resource: string, method: string, overrides: Partial<ApiRoute> = {}): ApiRoute {
  return {
    resource,
    method,
    iam: false,
    functionLogicalId: 'Ingest',
    integrationTimeoutMs: 29_000,
    throttle: undefined,
    resourceId: 'abc123',
    match: pathMatcher(resource),
    ...overrides,
  };
}

async function gateway(
  routes: ApiRoute[],
  fn: (event: APIGatewayProxyEvent) => Promise<Partial<InvokeResult>> | Partial<InvokeResult>,
) {
  const events: APIGatewayProxyEvent[] = [];
  const api: ApiDefinition = { apiId: 'a1b2c3d4e5', stageName: 'v1', routes };
  const started = await startApiGateway(
    {
      api,
      region: 'us-east-1',
      account: '000000000000',
      invoke: async (_id, event) => {
        events.push(event);
        return { requestId: 'r', durationMs: 1, ...(await fn(event)) } as InvokeResult;
      },
      operatorToken: async () => TOKEN,
      emit: () => {},
    },
    0,
    '127.0.0.1',
  );
  server = started.server;
  return { url: started.url, events };
}

const ok = (body: object, statusCode = 200) => ({
  ok: true as const,
  payload: { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
});

describe('the emulated API Gateway', () => {
  it('hands the function a REST API v1 proxy event, the stage path stripped', async () => {
    const { url, events } = await gateway([route('/events/{id}', 'GET', { functionLogicalId: 'Op' })], () =>
      ok({ fine: true }),
    );
    const answer = await fetch(`${url}/v1/events/evt%201?a=1&a=2&b=x`, { headers: { 'X-Custom': 'yes' } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-amzn-requestid')).toBeTruthy();
    const [event] = events;
    expect(event).toMatchObject({
      resource: '/events/{id}',
      path: '/events/evt%201',
      httpMethod: 'GET',
      pathParameters: { id: 'evt 1' },
      queryStringParameters: { a: '2', b: 'x' },
      multiValueQueryStringParameters: { a: ['1', '2'], b: ['x'] },
      body: null,
      isBase64Encoded: false,
      stageVariables: null,
      requestContext: {
        stage: 'v1',
        path: '/v1/events/evt%201',
        resourcePath: '/events/{id}',
        apiId: 'a1b2c3d4e5',
        identity: { sourceIp: '127.0.0.1', userArn: null },
      },
    });
    expect(event?.headers['X-Custom']).toBe('yes');
    expect(event?.multiValueHeaders['X-Custom']).toEqual(['yes']);
    expect(event?.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes the body as text and answers with the proxy result', async () => {
    const { url, events } = await gateway([route('/events', 'POST')], () => ({
      ok: true,
      payload: {
        statusCode: 202,
        headers: { 'x-one': '1' },
        multiValueHeaders: { 'x-two': ['a', 'b'] },
        body: 'ok',
      },
    }));
    const answer = await fetch(`${url}/events`, { method: 'POST', body: '{"id":"e"}' });
    expect(answer.status).toBe(202);
    expect(answer.headers.get('x-one')).toBe('1');
    expect(answer.headers.get('x-two')).toBe('a, b');
    expect(await answer.text()).toBe('ok');
    expect(events[0]?.body).toBe('{"id":"e"}');
  });

  it('sets identity.userArn on IAM routes for the token holder only, and refuses everyone else', async () => {
    const { url, events } = await gateway(
      [route('/events', 'GET', { iam: true }), route('/events', 'POST')],
      () => ok({}),
    );
    const unsigned = await fetch(`${url}/events`);
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ message: 'Missing Authentication Token' });
    expect((await fetch(`${url}/events`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(403);
    expect(events).toHaveLength(0);

    await fetch(`${url}/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(events[0]?.requestContext.identity.userArn).toBe(
      'arn:aws:iam::000000000000:user/emulate-operator',
    );
    // Not an IAM route: the token is the function's business, and no identity is set.
    await fetch(`${url}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '{}',
    });
    expect(events[1]?.requestContext.identity.userArn).toBeNull();
  });

  it('answers 403 Missing Authentication Token for a path or method the API does not have', async () => {
    const { url, events } = await gateway([route('/events', 'POST')], () => ok({}));
    for (const [path, method] of [
      ['/nowhere', 'GET'],
      ['/events', 'GET'],
      ['/v2/events', 'POST'],
    ] as const) {
      const answer = await fetch(`${url}${path}`, { method });
      expect(answer.status).toBe(403);
      expect(answer.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    }
    expect(events).toHaveLength(0);
  });

  it('answers 502 for a failed function or one that returns no proxy result', async () => {
    let result: Partial<InvokeResult> = { ok: false, errorType: 'Sandbox.Timedout', errorMessage: 'late' };
    const { url } = await gateway([route('/events', 'POST')], () => result);
    const failed = await fetch(`${url}/events`, { method: 'POST' });
    expect(failed.status).toBe(502);
    expect(await failed.json()).toEqual({ message: 'Internal server error' });
    result = { ok: true, payload: { body: 'no status code' } };
    expect((await fetch(`${url}/events`, { method: 'POST' })).status).toBe(502);
  });

  it('answers 504 once the integration timeout passes, whatever the function does later', async () => {
    let finish = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const { url } = await gateway([route('/events', 'POST', { integrationTimeoutMs: 100 })], async () => {
      // The function answers only when the test lets it: after the gateway has given up, however slow.
      await finished;
      return ok({});
    });
    const answer = await fetch(`${url}/events`, { method: 'POST' });
    expect(answer.status).toBe(504);
    expect(await answer.json()).toEqual({ message: 'Endpoint request timed out' });
    finish();
  });

  it("throttles each method with the stage's token bucket: 429 past the burst", async () => {
    const { url } = await gateway([route('/healthz', 'GET', { throttle: { rate: 1, burst: 3 } })], () =>
      ok({}),
    );
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${url}/healthz`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('refuses a body over 10 MB with 413 before the function runs', async () => {
    const { url, events } = await gateway([route('/batch', 'POST')], () => ok({}));
    const answer = await fetch(`${url}/batch`, { method: 'POST', body: 'x'.repeat(10 * 1024 * 1024 + 1) });
    expect(answer.status).toBe(413);
    expect(events).toHaveLength(0);
  });
});
