import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ListUsersResponse,
  REGISTER_PATH,
  ROLES_PATH,
  USERS_PATH,
  userResourcesPath,
} from '../../functions/core/truefoundry/api-contract';
import {
  type CallRecord,
  type FaultSettings,
  type Sandbox,
  type SandboxUser,
  startSandbox,
} from '../../sandbox';
import { call, register } from './http';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ apiKey: 'first-key', tenantName: 'acme' });
});
afterAll(() => sandbox.close());
beforeEach(() => {
  sandbox.reset();
  sandbox.setApiKey('first-key');
});

/** Observation routes take no key: the helper is called with apiKey null to prove it. */
const observe = <T = unknown>(method: string, route: string, body?: unknown) =>
  call<T>(sandbox, method, `/__sandbox/${route}`, { body, apiKey: null });

describe('call log', () => {
  it('records every API request in arrival order with method, path, query, body, status and effect', async () => {
    await register(sandbox, 'Ann@x.com', {
      sendInviteEmail: true,
      acceptInviteClientURL: 'https://app/accept',
    });
    await call(sandbox, 'GET', USERS_PATH, { query: { limit: '5', query: 'ann' } });
    await call(sandbox, 'PATCH', ROLES_PATH, { body: { email: 'ann@x.com', roles: ['nope'] } });
    await call(sandbox, 'GET', USERS_PATH, { apiKey: 'wrong' });
    await call(sandbox, 'POST', REGISTER_PATH, { rawBody: '{' });
    await observe('GET', 'users');

    const calls = sandbox.calls();
    expect(calls.map((record) => record.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(calls[0]).toEqual({
      seq: 1,
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      method: 'POST',
      path: `/${REGISTER_PATH}`,
      query: {},
      body: { email: 'Ann@x.com', sendInviteEmail: true, acceptInviteClientURL: 'https://app/accept' },
      status: 200,
      effect: 'created',
      emailSent: true,
    });
    expect(calls[1]).toMatchObject({
      method: 'GET',
      query: { limit: '5', query: 'ann' },
      body: undefined,
      status: 200,
    });
    expect(calls.slice(2).map((record) => record.status)).toEqual([422, 401, 400]);
    expect(
      calls.slice(1).every((record) => record.effect === undefined && record.emailSent === undefined),
    ).toBe(true);
  });

  it('answers copies and can be cleared', async () => {
    await register(sandbox, 'ann@x.com');
    const copy = sandbox.calls();
    copy[0]!.status = 999;
    (copy[0]!.body as Record<string, unknown>).email = 'changed';
    expect(sandbox.calls()[0]).toMatchObject({ status: 200, body: { email: 'ann@x.com' } });
    sandbox.clearCalls();
    expect(sandbox.calls()).toEqual([]);
    await register(sandbox, 'bob@x.com');
    expect(sandbox.calls()).toHaveLength(1);
  });

  it('shows a request held by latency with status 0 until it is answered', async () => {
    // Held a second: far longer than it takes to see the request arrive, which is waited for, not slept.
    sandbox.setFaults({ latencyMs: 1_000 });
    const pending = register(sandbox, 'ann@x.com');
    await vi.waitFor(() => expect(sandbox.calls()).toHaveLength(1), { interval: 5 });
    expect(sandbox.calls()).toMatchObject([{ path: `/${REGISTER_PATH}`, status: 0 }]);
    await pending;
    expect(sandbox.calls()).toMatchObject([{ status: 200, effect: 'created' }]);
  });
});

describe('/__sandbox routes', () => {
  it('reads and clears the call log, never logging themselves', async () => {
    await register(sandbox, 'ann@x.com');
    const calls = await observe<CallRecord[]>('GET', 'calls');
    expect(calls.status).toBe(200);
    expect(calls.headers.get('content-type')).toBe('application/json');
    expect(calls.body).toEqual(sandbox.calls());
    expect(calls.body).toHaveLength(1);
    expect((await observe('DELETE', 'calls')).status).toBe(200);
    expect(sandbox.calls()).toEqual([]);
  });

  it('seeds and lists users, internal fields included', async () => {
    const seeded = await observe<SandboxUser>('POST', 'users', {
      email: 'Ann@x.com',
      password: 'hunter22',
      teams: ['everyone', 'ml'],
      displayName: 'Ann',
      rolesWithResource: [{ resourceType: 'workspace', roleName: 'workspace-admin', resourceId: 'ws-1' }],
    });
    expect(seeded.status).toBe(201);
    expect(seeded.body).toMatchObject({
      email: 'ann@x.com',
      password: 'hunter22',
      teams: ['everyone', 'ml'],
    });
    const users = await observe<SandboxUser[]>('GET', 'users');
    expect(users.body).toEqual([seeded.body]);
    expect(users.body[0]!.visibleAt).toEqual(expect.any(String));
    expect(
      (await call<ListUsersResponse>(sandbox, 'GET', USERS_PATH)).body.data[0]?.metadata.displayName,
    ).toBe('Ann');
  });

  it('seeds a resource name that the resources route then answers', async () => {
    const seeded = await observe<SandboxUser>('POST', 'users', {
      email: 'ann@x.com',
      rolesWithResource: [
        {
          resourceType: 'workspace',
          roleName: 'workspace-admin',
          resourceId: 'ws-1',
          resourceName: 'ml-prod',
        },
      ],
    });
    expect(seeded.status).toBe(201);
    expect((await call(sandbox, 'GET', userResourcesPath(seeded.body.id))).body).toEqual({
      data: [
        {
          resourceType: 'workspace',
          resourceId: 'ws-1',
          roleId: 'workspace:workspace-admin',
          resourceName: 'ml-prod',
        },
      ],
    });
  });

  it('refuses a bad seed with 422 and a duplicate with 409', async () => {
    expect((await observe('POST', 'users', { email: 'nope' })).status).toBe(422);
    const badRoles = await observe<{ message: string }>('POST', 'users', {
      email: 'ann@x.com',
      rolesWithResource: [{ roleName: 'x' }],
    });
    expect(badRoles.status).toBe(422);
    expect(badRoles.body.message).toContain('"rolesWithResource[0].resourceType"');
    const badName = await observe<{ message: string }>('POST', 'users', {
      email: 'ann@x.com',
      rolesWithResource: [{ resourceType: 'workspace', roleName: 'workspace-admin', resourceName: 7 }],
    });
    expect(badName.status).toBe(422);
    expect(badName.body.message).toContain('"rolesWithResource[0].resourceName"');
    await observe('POST', 'users', { email: 'ann@x.com' });
    expect((await observe('POST', 'users', { email: 'ANN@x.com' })).status).toBe(409);
  });

  it('lists sent emails', async () => {
    await register(sandbox, 'ann@x.com', {
      sendInviteEmail: true,
      acceptInviteClientURL: 'https://app/accept',
    });
    const emails = await observe('GET', 'emails');
    expect(emails.body).toEqual(sandbox.emailsSent());
    expect(emails.body).toMatchObject([{ to: 'ann@x.com' }]);
  });

  it('reads and replaces the faults, showing what is left of scripted ones', async () => {
    const faults: FaultSettings = {
      latencyMs: 1,
      scripted: [{ path: `/${USERS_PATH}`, status: 500, times: 2 }],
    };
    expect((await observe('PUT', 'faults', faults)).body).toEqual(faults);
    expect((await call(sandbox, 'GET', USERS_PATH)).status).toBe(500);
    expect((await observe('GET', 'faults')).body).toEqual({
      latencyMs: 1,
      scripted: [{ path: `/${USERS_PATH}`, status: 500, times: 1 }],
    });
    await observe('PUT', 'faults', { dropRate: 0 });
    expect((await observe('GET', 'faults')).body).toEqual({ dropRate: 0 });
    expect((await call(sandbox, 'GET', USERS_PATH)).status).toBe(200);
  });

  it('refuses invalid faults with 422 naming the field, keeping the previous ones', async () => {
    sandbox.setFaults({ latencyMs: 1 });
    const reply = await observe<{ message: string }>('PUT', 'faults', { dropRate: 2 });
    expect(reply.status).toBe(422);
    expect(reply.body.message).toContain('"dropRate"');
    expect((await observe('GET', 'faults')).body).toEqual({ latencyMs: 1 });
    expect(() => sandbox.setFaults({ serverErrorRate: -1 })).toThrow(/"serverErrorRate"/);
  });

  it('is never faulted', async () => {
    sandbox.setFaults({
      dropRate: 1,
      rateLimit: { rps: 1, burst: 1 },
      scripted: [{ status: 500, times: 10 }],
    });
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await observe('GET', 'users')).status).toBe(200);
  });

  it('resets everything', async () => {
    await register(sandbox, 'ann@x.com', {
      sendInviteEmail: true,
      acceptInviteClientURL: 'https://app/accept',
    });
    sandbox.setFaults({ latencyMs: 5 });
    expect((await observe('POST', 'reset')).status).toBe(200);
    expect(sandbox.users()).toEqual([]);
    expect(sandbox.calls()).toEqual([]);
    expect(sandbox.emailsSent()).toEqual([]);
    expect((await observe('GET', 'faults')).body).toEqual({});
  });

  it('rotates the API key', async () => {
    expect((await observe('PUT', 'api-key', { apiKey: 'second-key' })).status).toBe(200);
    expect(sandbox.apiKey).toBe('second-key');
    expect((await call(sandbox, 'GET', USERS_PATH, { apiKey: 'first-key' })).status).toBe(401);
    expect((await call(sandbox, 'GET', USERS_PATH, { apiKey: 'second-key' })).status).toBe(200);
    expect((await observe('PUT', 'api-key', { apiKey: '' })).status).toBe(422);
    expect((await observe('PUT', 'api-key', {})).status).toBe(422);
  });

  it('answers 404 for an unknown sandbox route and 400 for malformed JSON', async () => {
    expect((await observe('GET', 'nothing')).status).toBe(404);
    expect((await observe('POST', 'calls')).status).toBe(404);
    const malformed = await call(sandbox, 'PUT', '/__sandbox/faults', { rawBody: '{', apiKey: null });
    expect(malformed.status).toBe(400);
  });
});

describe('programmatic controls', () => {
  it('setApiKey takes effect at once and refuses an empty key', async () => {
    sandbox.setApiKey('rotated');
    expect(sandbox.apiKey).toBe('rotated');
    expect((await call(sandbox, 'GET', USERS_PATH, { apiKey: 'first-key' })).status).toBe(401);
    expect((await call(sandbox, 'GET', USERS_PATH)).status).toBe(200);
    expect(() => sandbox.setApiKey('')).toThrow(/"apiKey"/);
  });

  it('reset clears users, calls, emails and faults but keeps the key', async () => {
    sandbox.seedUser({ email: 'old@x.com' });
    await register(sandbox, 'ann@x.com', {
      sendInviteEmail: true,
      acceptInviteClientURL: 'https://app/accept',
    });
    sandbox.setFaults({ scripted: [{ status: 500, times: 5 }] });
    sandbox.reset();
    expect([sandbox.users(), sandbox.calls(), sandbox.emailsSent()]).toEqual([[], [], []]);
    expect((await call(sandbox, 'GET', USERS_PATH)).status).toBe(200);
    expect(sandbox.seedUser({ email: 'new@x.com' }).id).toBe('usr_1');
  });
});

describe('startSandbox and close', () => {
  it('listens on the loopback with the defaults', async () => {
    const fresh = await startSandbox();
    try {
      expect(fresh.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(fresh.apiKey).toBe('sandbox-api-key');
      expect((await call(fresh, 'GET', USERS_PATH)).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });

  it('closes promptly despite keep-alive sockets and requests held by latency', async () => {
    const closing = await startSandbox({ faults: { latencyMs: 10_000 } });
    closing.setFaults({});
    expect((await call(closing, 'GET', USERS_PATH)).status).toBe(200);
    // Held for ten minutes: were close() to wait for it, the test would time out.
    closing.setFaults({ latencyMs: 10 * 60_000 });
    const held = call(closing, 'GET', USERS_PATH).then(
      () => 'answered',
      () => 'failed',
    );
    await vi.waitFor(() => expect(closing.calls()).toHaveLength(2), { interval: 5 });
    await closing.close();
    expect(await held).toBe('failed');
    await expect(fetch(`${closing.url}/${USERS_PATH}`)).rejects.toThrow();
    await closing.close();
  });

  it('rejects when the port is taken', async () => {
    const port = Number(new URL(sandbox.url).port);
    await expect(startSandbox({ port })).rejects.toThrow(/EADDRINUSE/);
  });
});
