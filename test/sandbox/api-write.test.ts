import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ACTIVATE_PATH,
  CHANGE_PASSWORD_PATH,
  DEACTIVATE_PATH,
  type ErrorBody,
  INVITE_PATH,
  REGISTER_PATH,
  ROLES_PATH,
  USERS_PATH,
} from '../../functions/core/truefoundry/api-contract';
import { type Sandbox, startSandbox } from '../../sandbox';
import { call, register } from './http';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ tenantName: 'acme' });
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.reset());

const onlyUser = () => {
  const users = sandbox.users();
  expect(users).toHaveLength(1);
  return users[0]!;
};

describe('authentication, routing and bodies', () => {
  it('answers 401 without the exact bearer key', async () => {
    for (const apiKey of [null, 'wrong', `${sandbox.apiKey}x`, ` ${sandbox.apiKey}`]) {
      const reply = await call<ErrorBody>(sandbox, 'GET', USERS_PATH, { apiKey });
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({ statusCode: 401, message: 'Unauthorized', code: 'UNAUTHORIZED' });
    }
    for (const authorization of [sandbox.apiKey, `bearer ${sandbox.apiKey}`, `Basic ${sandbox.apiKey}`]) {
      const reply = await fetch(`${sandbox.url}/${USERS_PATH}`, { headers: { authorization } });
      expect(reply.status).toBe(401);
    }
  });

  it('answers 404 for unknown routes and methods, including a doubled slash', async () => {
    for (const [method, path] of [
      ['GET', 'api/svc/v1/nothing'],
      ['PUT', USERS_PATH],
      ['GET', REGISTER_PATH.replace('register', 'register/extra')],
      ['POST', ROLES_PATH],
      ['GET', `//${USERS_PATH}`],
    ] as const) {
      const reply = await call<ErrorBody>(sandbox, method, path);
      expect(reply.status).toBe(404);
      expect(reply.headers.get('content-type')).toBe('application/json');
      expect(reply.body.statusCode).toBe(404);
      expect(typeof reply.body.code).toBe('string');
    }
  });

  it('answers 400 to malformed JSON and changes nothing', async () => {
    const reply = await call<ErrorBody>(sandbox, 'POST', REGISTER_PATH, { rawBody: '{"email": "ann@x.com"' });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ statusCode: 400, code: 'MALFORMED_JSON' });
    expect(sandbox.users()).toEqual([]);
  });

  it('answers 422 when the body is not an object', async () => {
    const reply = await call<ErrorBody>(sandbox, 'POST', REGISTER_PATH, { body: ['ann@x.com'] });
    expect(reply.status).toBe(422);
    expect(reply.body.message).toContain('"body"');
  });
});

describe('POST register', () => {
  it('creates an active user with the default tenant role, stored lower-case', async () => {
    const reply = await register(sandbox, 'Ann@X.com');
    expect(reply).toMatchObject({ status: 200, body: {} });
    expect(onlyUser()).toMatchObject({
      id: expect.stringMatching(/^usr_/),
      email: 'ann@x.com',
      active: true,
      roles: ['tenant-member'],
      metadata: { tenantRoleManagedBy: 'initial', inviteAccepted: false, registeredInIdp: false },
      teams: ['everyone'],
    });
    expect(sandbox.emailsSent()).toEqual([]);
    expect(sandbox.calls()[0]).toMatchObject({ status: 200, effect: 'created' });
    expect(sandbox.calls()[0]).not.toHaveProperty('emailSent');
  });

  it('answers 409 for an existing email in any case, and 200 without change with skipIfUserExists', async () => {
    await register(sandbox, 'ann@x.com');
    const before = onlyUser();
    const conflict = await register(sandbox, 'ANN@x.com');
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ statusCode: 409, code: 'USER_ALREADY_EXISTS' });
    const skipped = await register(sandbox, 'ANN@x.com', { skipIfUserExists: true, sendInviteEmail: false });
    expect(skipped).toMatchObject({ status: 200, body: {} });
    expect(onlyUser()).toEqual(before);
    expect(sandbox.calls().map((record) => record.effect)).toEqual(['created', undefined, undefined]);
  });

  it('validates but persists nothing on dryRun, and still answers 409 for an existing user', async () => {
    expect(await register(sandbox, 'ann@x.com', { dryRun: true })).toMatchObject({ status: 200, body: {} });
    expect(sandbox.users()).toEqual([]);
    expect((await register(sandbox, 'not-an-email', { dryRun: true })).status).toBe(422);
    sandbox.seedUser({ email: 'bob@x.com' });
    expect((await register(sandbox, 'bob@x.com', { dryRun: true })).status).toBe(409);
    expect(sandbox.calls().every((record) => record.effect === undefined)).toBe(true);
  });

  it.each([
    [{ email: 'ann.x.com' }, '"email"'],
    [{ email: 'ann@x' }, '"email"'],
    [{}, '"email"'],
    [{ email: 'ann@x.com', sendInviteEmail: true }, '"acceptInviteClientURL"'],
    // The invite endpoint's spelling does not count here.
    [
      { email: 'ann@x.com', sendInviteEmail: true, acceptInviteClientUrl: 'https://app/accept' },
      '"acceptInviteClientURL"',
    ],
    [{ email: 'ann@x.com', dryRun: 'yes' }, '"dryRun"'],
  ])('answers 422 to %j', async (body, field) => {
    const reply = await call<ErrorBody>(sandbox, 'POST', REGISTER_PATH, { body });
    expect(reply.status).toBe(422);
    expect(reply.body).toMatchObject({ statusCode: 422, code: 'VALIDATION_ERROR' });
    expect(reply.body.message).toContain(field);
    expect(sandbox.users()).toEqual([]);
  });

  it('sends an invitation email to acceptInviteClientURL when asked', async () => {
    await register(sandbox, 'Ann@x.com', {
      sendInviteEmail: true,
      acceptInviteClientURL: 'https://app.example/accept',
    });
    const [email] = sandbox.emailsSent();
    expect(email).toMatchObject({
      to: 'ann@x.com',
      link: expect.stringMatching(/^https:\/\/app\.example\/accept\?token=\w+$/),
    });
    expect(Date.parse(email!.at)).not.toBeNaN();
    expect(sandbox.calls()[0]).toMatchObject({ effect: 'created', emailSent: true });
  });
});

describe('POST invite', () => {
  const invite = (body: unknown) =>
    call<{ link: string } & ErrorBody>(sandbox, 'POST', INVITE_PATH, { body });

  it('creates the user like register and answers the link it emailed', async () => {
    const reply = await invite({ email: 'Bob@x.com', acceptInviteClientUrl: 'https://app.example/accept' });
    expect(reply.status).toBe(200);
    expect(reply.body.link).toMatch(/^https:\/\/app\.example\/accept\?token=\w+$/);
    expect(onlyUser()).toMatchObject({ email: 'bob@x.com', active: true, roles: ['tenant-member'] });
    expect(sandbox.emailsSent()).toEqual([
      { to: 'bob@x.com', link: reply.body.link, at: expect.any(String) },
    ]);
    expect(sandbox.calls()[0]).toMatchObject({ effect: 'created', emailSent: true });
  });

  it('answers 409 for an existing user', async () => {
    sandbox.seedUser({ email: 'bob@x.com' });
    const reply = await invite({ email: 'BOB@x.com', acceptInviteClientUrl: 'https://app/accept' });
    expect(reply.status).toBe(409);
    expect(sandbox.emailsSent()).toEqual([]);
  });

  it.each([
    [{ email: 'bob@x.com' }, '"acceptInviteClientUrl"'],
    // The register endpoint's spelling does not count here.
    [{ email: 'bob@x.com', acceptInviteClientURL: 'https://app/accept' }, '"acceptInviteClientUrl"'],
    [{ acceptInviteClientUrl: 'https://app/accept' }, '"email"'],
    [{ email: 'bob', acceptInviteClientUrl: 'https://app/accept' }, '"email"'],
  ])('answers 422 to %j', async (body, field) => {
    const reply = await invite(body);
    expect(reply.status).toBe(422);
    expect(reply.body.message).toContain(field);
    expect(sandbox.users()).toEqual([]);
  });

  it('answers 403 when the auth provider is not managed by TrueFoundry', async () => {
    const closed = await startSandbox({ inviteEnabled: false });
    try {
      const reply = await call<ErrorBody>(closed, 'POST', INVITE_PATH, {
        body: { email: 'bob@x.com', acceptInviteClientUrl: 'https://app/accept' },
      });
      expect(reply.status).toBe(403);
      expect(reply.body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
      expect(closed.users()).toEqual([]);
      expect((await register(closed, 'bob@x.com')).status).toBe(200);
    } finally {
      await closed.close();
    }
  });
});

describe('PATCH roles', () => {
  const updateRoles = (body: unknown) => call<ErrorBody>(sandbox, 'PATCH', ROLES_PATH, { body });

  it('replaces tenant roles when resourceType is absent and marks them managed manually', async () => {
    sandbox.seedUser({ email: 'ann@x.com' });
    const reply = await updateRoles({ email: 'ANN@x.com', roles: ['tenant-admin', 'tenant-viewer'] });
    expect(reply).toMatchObject({ status: 200, body: {} });
    const user = onlyUser();
    expect(user.roles).toEqual(['tenant-admin', 'tenant-viewer']);
    expect(user.metadata.tenantRoleManagedBy).toBe('manual');
    expect(user.rolesWithResource).toEqual([
      { roleId: 'tenant:tenant-admin', resourceType: 'tenant', resourceId: 'acme', roleName: 'tenant-admin' },
      {
        roleId: 'tenant:tenant-viewer',
        resourceType: 'tenant',
        resourceId: 'acme',
        roleName: 'tenant-viewer',
      },
    ]);
  });

  it('replaces the roles of another resource type without touching tenant roles', async () => {
    sandbox.seedUser({ email: 'ann@x.com' });
    await updateRoles({ email: 'ann@x.com', resourceType: 'workspace', roles: ['workspace-admin'] });
    await updateRoles({ email: 'ann@x.com', resourceType: 'workspace', roles: ['workspace-viewer'] });
    const user = onlyUser();
    expect(user.roles).toEqual(['tenant-member']);
    expect(user.metadata.tenantRoleManagedBy).toBe('initial');
    expect(user.rolesWithResource?.map((role) => role.roleId)).toEqual([
      'tenant:tenant-member',
      'workspace:workspace-viewer',
    ]);
  });

  it('records roles-updated even when nothing changed', async () => {
    sandbox.seedUser({ email: 'ann@x.com' });
    await updateRoles({ email: 'ann@x.com', roles: ['tenant-member'] });
    expect(sandbox.calls()[0]).toMatchObject({ status: 200, effect: 'roles-updated' });
  });

  it('answers 422 when roles is not an array of strings', async () => {
    sandbox.seedUser({ email: 'ann@x.com' });
    for (const roles of [undefined, 'tenant-admin', [1], ['tenant-admin', null]]) {
      const reply = await updateRoles({ email: 'ann@x.com', roles });
      expect(reply.status).toBe(422);
      expect(reply.body.message).toBe('"roles" must be an array of strings');
    }
  });

  it('answers 422 for an unknown resource type or role, listing the unknown and the allowed ones', async () => {
    sandbox.seedUser({ email: 'ann@x.com' });
    const badType = await updateRoles({ email: 'ann@x.com', resourceType: 'galaxy', roles: [] });
    expect(badType.status).toBe(422);
    expect(badType.body.message).toContain('"resourceType"');
    const badRole = await updateRoles({ email: 'ann@x.com', roles: ['tenant-admin', 'tenant-god', 'root'] });
    expect(badRole.status).toBe(422);
    expect(badRole.body.code).toBe('INVALID_ROLE');
    expect(badRole.body.message).toContain('tenant-god, root');
    expect(badRole.body.message).toContain('tenant-admin, tenant-member, tenant-viewer');
    const wrongType = await updateRoles({
      email: 'ann@x.com',
      resourceType: 'cluster',
      roles: ['workspace-admin'],
    });
    expect(wrongType.status).toBe(422);
    expect(onlyUser().roles).toEqual(['tenant-member']);
  });

  it('answers 404 for an unknown user', async () => {
    const reply = await updateRoles({ email: 'ghost@x.com', roles: ['tenant-admin'] });
    expect(reply.status).toBe(404);
    expect(reply.body.code).toBe('USER_NOT_FOUND');
  });

  it('accepts the roles configured in knownRoles', async () => {
    const custom = await startSandbox({
      knownRoles: { tenant: ['owner'], secret: ['reader'] },
      defaultRoles: ['owner'],
    });
    try {
      custom.seedUser({ email: 'ann@x.com' });
      expect(
        (await call(custom, 'PATCH', ROLES_PATH, { body: { email: 'ann@x.com', roles: ['owner'] } })).status,
      ).toBe(200);
      const secret = { email: 'ann@x.com', resourceType: 'secret', roles: ['reader'] };
      expect((await call(custom, 'PATCH', ROLES_PATH, { body: secret })).status).toBe(200);
      const workspace = { email: 'ann@x.com', resourceType: 'workspace', roles: ['workspace-admin'] };
      expect((await call(custom, 'PATCH', ROLES_PATH, { body: workspace })).status).toBe(422);
    } finally {
      await custom.close();
    }
  });
});

describe('PATCH deactivate and activate', () => {
  it('flips the active flag, idempotently, recording an effect only on change', async () => {
    sandbox.seedUser({ email: 'ann@x.com' });
    const deactivate = (body: unknown) => call(sandbox, 'PATCH', DEACTIVATE_PATH, { body });
    const activate = (body: unknown) => call(sandbox, 'PATCH', ACTIVATE_PATH, { body });
    expect(await deactivate({ email: 'Ann@x.com', tenantName: 'acme' })).toMatchObject({
      status: 200,
      body: {},
    });
    expect(onlyUser().active).toBe(false);
    expect(await deactivate({ email: 'ann@x.com' })).toMatchObject({ status: 200, body: {} });
    expect(await activate({ email: 'ann@x.com' })).toMatchObject({ status: 200, body: {} });
    expect(onlyUser().active).toBe(true);
    expect(await activate({ email: 'ann@x.com' })).toMatchObject({ status: 200, body: {} });
    expect(sandbox.calls().map((record) => record.effect)).toEqual([
      'deactivated',
      undefined,
      'activated',
      undefined,
    ]);
  });

  it('answers 404 for an unknown user and 422 for another tenant or a bad email', async () => {
    sandbox.seedUser({ email: 'ann@x.com' });
    for (const path of [DEACTIVATE_PATH, ACTIVATE_PATH]) {
      expect((await call(sandbox, 'PATCH', path, { body: { email: 'ghost@x.com' } })).status).toBe(404);
      const otherTenant = await call<ErrorBody>(sandbox, 'PATCH', path, {
        body: { email: 'ann@x.com', tenantName: 'other' },
      });
      expect(otherTenant.status).toBe(422);
      expect(otherTenant.body.message).toContain('"tenantName"');
      expect((await call(sandbox, 'PATCH', path, { body: { email: 42 } })).status).toBe(422);
    }
    expect(onlyUser().active).toBe(true);
  });
});

describe('POST change-password', () => {
  const changePassword = (body: unknown) => call<ErrorBody>(sandbox, 'POST', CHANGE_PASSWORD_PATH, { body });

  it('sets a first password whatever oldPassword says, then requires the current one', async () => {
    sandbox.seedUser({ email: 'ann@x.com' });
    expect(
      await changePassword({ loginId: 'ANN@x.com', newPassword: 'first-pass', oldPassword: '' }),
    ).toMatchObject({
      status: 200,
      body: {},
    });
    expect(onlyUser().password).toBe('first-pass');
    const wrong = await changePassword({
      loginId: 'ann@x.com',
      newPassword: 'second-pass',
      oldPassword: 'nope',
    });
    expect(wrong.status).toBe(400);
    expect(onlyUser().password).toBe('first-pass');
    const right = await changePassword({
      loginId: 'ann@x.com',
      newPassword: 'second-pass',
      oldPassword: 'first-pass',
    });
    expect(right.status).toBe(200);
    expect(onlyUser().password).toBe('second-pass');
    expect(sandbox.calls().map((record) => record.effect)).toEqual([
      'password-changed',
      undefined,
      'password-changed',
    ]);
  });

  it('answers 422 for missing or non-string fields and a short password, 404 for an unknown login', async () => {
    sandbox.seedUser({ email: 'ann@x.com', password: 'old-password' });
    for (const [body, field] of [
      [{ newPassword: 'long-enough', oldPassword: 'old-password' }, '"loginId"'],
      [{ loginId: 'ann@x.com', oldPassword: 'old-password' }, '"newPassword"'],
      [{ loginId: 'ann@x.com', newPassword: 'long-enough' }, '"oldPassword"'],
      [{ loginId: 'ann@x.com', newPassword: 12345678, oldPassword: 'old-password' }, '"newPassword"'],
      [{ loginId: 'ann@x.com', newPassword: 'short', oldPassword: 'old-password' }, '"newPassword"'],
    ] as const) {
      const reply = await changePassword(body);
      expect(reply.status).toBe(422);
      expect(reply.body.message).toContain(field);
    }
    const ghost = await changePassword({
      loginId: 'ghost@x.com',
      newPassword: 'long-enough',
      oldPassword: 'x',
    });
    expect(ghost.status).toBe(404);
    expect(onlyUser().password).toBe('old-password');
  });
});
