import { describe, expect, it } from 'vitest';
import {
  TrueFoundryUsersClient,
  type TrueFoundryUsersClientOptions,
} from '../../functions/core/truefoundry/client';
import {
  InvalidUserRequestError,
  TrueFoundryAbortedError,
  TrueFoundryApiError,
  TrueFoundryBadRequestError,
  TrueFoundryConflictError,
  TrueFoundryError,
  TrueFoundryForbiddenError,
  TrueFoundryNetworkError,
  TrueFoundryNotFoundError,
  TrueFoundryRateLimitError,
  TrueFoundryServerError,
  TrueFoundryTimeoutError,
  TrueFoundryUnauthorizedError,
  TrueFoundryUnprocessableEntityError,
} from '../../functions/core/truefoundry/errors';
import type { Sandbox } from '../../sandbox';
import { useSandbox } from '../support/sandbox';

const sandboxOf = useSandbox({ inviteEnabled: false });
const noRetry = { maxAttempts: 1 };

function clientFor(sandbox: Sandbox, options: Partial<TrueFoundryUsersClientOptions> = {}) {
  return new TrueFoundryUsersClient({
    baseUrl: sandbox.url,
    apiKey: sandbox.apiKey,
    retry: noRetry,
    ...options,
  });
}

async function caught(promise: Promise<unknown>): Promise<TrueFoundryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TrueFoundryError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

function expectNoSecret(error: Error, secret: string) {
  expect(error.message).not.toContain(secret);
  expect(String(error)).not.toContain(secret);
  expect(JSON.stringify({ ...error })).not.toContain(secret);
}

describe('errors by status', () => {
  it('401 on a wrong key, without the key anywhere in the error', async () => {
    const sandbox = sandboxOf();
    const error = await caught(clientFor(sandbox, { apiKey: 'wrong-secret-key' }).list());
    expect(error).toBeInstanceOf(TrueFoundryUnauthorizedError);
    expect(error).toMatchObject({
      status: 401,
      method: 'GET',
      path: 'api/svc/v1/users',
      code: 'UNAUTHORIZED',
    });
    expect(error.isTransient()).toBe(false);
    expectNoSecret(error, 'wrong-secret-key');
  });

  it('403 on invite when the tenant auth is not managed by TrueFoundry', async () => {
    const sandbox = sandboxOf();
    const error = await caught(
      clientFor(sandbox).invite({ email: 'a@example.com', acceptInviteClientUrl: 'https://x.example.com' }),
    );
    expect(error).toBeInstanceOf(TrueFoundryForbiddenError);
    expect(error.status).toBe(403);
    expect(error.isTransient()).toBe(false);
  });

  it('404 with TrueFoundry message and code on roles for an unknown user', async () => {
    const sandbox = sandboxOf();
    const error = await caught(clientFor(sandbox).updateRoles({ email: 'nobody@example.com', roles: [] }));
    expect(error).toBeInstanceOf(TrueFoundryNotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'USER_NOT_FOUND' });
    expect(error.apiMessage).toEqual(expect.any(String));
    expect(error.message).toContain('404');
    expect(error.message).toContain(error.apiMessage);
  });

  it('409 on registering an existing user, success with skipIfUserExists', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'ada@example.com' });
    const client = clientFor(sandbox);
    const error = await caught(client.preRegister({ email: 'ada@example.com' }));
    expect(error).toBeInstanceOf(TrueFoundryConflictError);
    expect(error.status).toBe(409);
    await expect(client.preRegister({ email: 'ada@example.com', skipIfUserExists: true })).resolves.toEqual(
      {},
    );
  });

  it('422 on a role name TrueFoundry does not know', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'ada@example.com' });
    const error = await caught(
      clientFor(sandbox).updateRoles({ email: 'ada@example.com', roles: ['wizard'] }),
    );
    expect(error).toBeInstanceOf(TrueFoundryUnprocessableEntityError);
    expect(error.status).toBe(422);
    expect(error.apiMessage).toContain('wizard');
  });

  it('400 on deleting a user who still collaborates on a resource', async () => {
    const sandbox = sandboxOf();
    const user = sandbox.seedUser({
      email: 'ada@example.com',
      rolesWithResource: [{ resourceType: 'workspace', roleName: 'workspace-admin' }],
    });
    const error = await caught(clientFor(sandbox).delete(user.id));
    expect(error).toBeInstanceOf(TrueFoundryBadRequestError);
    expect(error.isTransient()).toBe(false);
  });

  it('429 is transient and carries Retry-After in milliseconds', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ status: 429, retryAfterSeconds: 2 }] });
    const error = await caught(clientFor(sandbox).list());
    expect(error).toBeInstanceOf(TrueFoundryRateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 2000 });
    expect(error.isTransient()).toBe(true);
  });

  it('5xx is transient', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ status: 503 }] });
    const error = await caught(clientFor(sandbox).list());
    expect(error).toBeInstanceOf(TrueFoundryServerError);
    expect(error.status).toBe(503);
    expect(error.isTransient()).toBe(true);
  });

  it('a dropped connection is a transient network error without status', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ drop: true }] });
    const error = await caught(clientFor(sandbox).list());
    expect(error).toBeInstanceOf(TrueFoundryNetworkError);
    expect(error.status).toBeUndefined();
    expect(error.isTransient()).toBe(true);
  });

  it('no answer within the timeout is a transient timeout error', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ delayMs: 1_000 }] });
    const error = await caught(clientFor(sandbox, { timeoutMs: 100 }).list());
    expect(error).toBeInstanceOf(TrueFoundryTimeoutError);
    expect(error.message).toContain('100 ms');
    expect(error.isTransient()).toBe(true);
  });

  it("the caller's AbortSignal cancels the request and is not transient", async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ delayMs: 1_000 }] });
    const error = await caught(clientFor(sandbox).list({}, { signal: AbortSignal.timeout(50) }));
    expect(error).toBeInstanceOf(TrueFoundryAbortedError);
    expect(error.isTransient()).toBe(false);
  });

  it('a non-JSON success answer is a permanent error that hints at the base URL', async () => {
    const htmlFetch: typeof fetch = async () => new Response('<html>login</html>', { status: 200 });
    const client = new TrueFoundryUsersClient({
      baseUrl: 'https://tenant.example.com',
      apiKey: 'k',
      fetch: htmlFetch,
    });
    const error = await caught(client.list());
    expect(error.isTransient()).toBe(false);
    expect(error.message).toContain('baseUrl');
  });
});

describe('the answers of getResources and getTeams are checked', () => {
  const answering =
    (body: unknown): typeof fetch =>
    async () =>
      new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  const clientAnswering = (body: unknown) =>
    new TrueFoundryUsersClient({
      baseUrl: 'https://tenant.example.com',
      apiKey: 'k',
      fetch: answering(body),
    });

  it.each([
    [
      'teams in the old {id, name} shape',
      (c: TrueFoundryUsersClient) => c.getTeams('usr_1'),
      { data: [{ id: 'team_ml', name: 'ml' }] },
      'data.0.teamName',
    ],
    [
      'a team without roles',
      (c: TrueFoundryUsersClient) => c.getTeams('usr_1'),
      { data: [{ teamName: 'ml' }] },
      'data.0.roles',
    ],
    [
      'a team role that is not a string',
      (c: TrueFoundryUsersClient) => c.getTeams('usr_1'),
      { data: [{ teamName: 'ml', roles: [1] }] },
      'data.0.roles.0',
    ],
    ['teams without data', (c: TrueFoundryUsersClient) => c.getTeams('usr_1'), {}, 'data'],
    [
      'a resource without roleId',
      (c: TrueFoundryUsersClient) => c.getResources('usr_1'),
      { data: [{ resourceType: 'workspace', resourceId: 'ws-1' }] },
      'data.0.roleId',
    ],
    [
      'a resourceName that is not a string',
      (c: TrueFoundryUsersClient) => c.getResources('usr_1'),
      { data: [{ resourceType: 'workspace', resourceId: 'ws-1', roleId: 'r', resourceName: 7 }] },
      'data.0.resourceName',
    ],
  ] as const)(
    'rejects %s as an unexpected response body naming the field',
    async (_name, run, body, field) => {
      const error = await caught(run(clientAnswering(body)));
      expect(error).toBeInstanceOf(TrueFoundryApiError);
      expect(error.message).toContain('unexpected response body');
      expect(error.status).toBe(200);
      expect(error.isTransient()).toBe(false);
      expect(error.apiMessage).toContain(`at "${field}"`);
    },
  );

  it('accepts a resource without resourceName and keeps fields it does not know', async () => {
    const resources = await clientAnswering({
      data: [{ resourceType: 'workspace', resourceId: 'ws-1', roleId: 'r', extra: true }],
    }).getResources('usr_1');
    expect(resources.data).toEqual([
      { resourceType: 'workspace', resourceId: 'ws-1', roleId: 'r', extra: true },
    ]);
    const teams = await clientAnswering({ data: [{ teamName: 'ml', roles: [], id: 'team_ml' }] }).getTeams(
      'usr_1',
    );
    expect(teams.data).toEqual([{ teamName: 'ml', roles: [], id: 'team_ml' }]);
  });
});

describe('bad input is rejected before any request', () => {
  const cases: [string, (c: TrueFoundryUsersClient) => Promise<unknown>, RegExp][] = [
    [
      'empty email on register',
      (c) => c.preRegister({ email: '' }),
      /preRegister: "email" must not be empty/,
    ],
    [
      'blank email on invite',
      (c) => c.invite({ email: '  ', acceptInviteClientUrl: 'https://a.b' }),
      /"email"/,
    ],
    ['not an email', (c) => c.deactivate({ email: 'not-an-email' }), /deactivate: "email" must be an email/],
    [
      'roles not an array',
      (c) => c.updateRoles({ email: 'a@example.com', roles: 'tenant-admin' as unknown as string[] }),
      /updateRoles: "roles" must be an array of strings/,
    ],
    [
      'a role that is not a string',
      (c) => c.updateRoles({ email: 'a@example.com', roles: [7 as unknown as string] }),
      /updateRoles: "roles\.0" must be a string/,
    ],
    [
      'invite email without accept URL on register',
      (c) => c.preRegister({ email: 'a@example.com', sendInviteEmail: true }),
      /"acceptInviteClientURL" is required when sendInviteEmail is true/,
    ],
    ['empty user id', (c) => c.get(''), /get: "request" must not be empty/],
    ['negative offset', (c) => c.list({ offset: -1 }), /list: "offset"/],
    ['empty email lookup', (c) => c.findByEmail(''), /findByEmail: "email" must not be empty/],
  ];

  it.each(cases)('%s', async (_name, call, message) => {
    const sandbox = sandboxOf();
    const client = clientFor(sandbox);
    await expect(call(client)).rejects.toThrow(InvalidUserRequestError);
    await expect(call(client)).rejects.toThrow(message);
    expect(sandbox.calls()).toEqual([]);
  });

  it('rejects a client without a usable base URL or key', () => {
    expect(() => new TrueFoundryUsersClient({ baseUrl: 'acme.truefoundry.cloud', apiKey: 'k' })).toThrow(
      /baseUrl/,
    );
    expect(
      () => new TrueFoundryUsersClient({ baseUrl: 'https://acme.truefoundry.cloud', apiKey: '' }),
    ).toThrow(/apiKey/);
  });
});
