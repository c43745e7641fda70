import { describe, expect, it } from 'vitest';
import type { ListUsersResponse, User } from '../../functions/core/truefoundry/api-contract';
import { DEFAULT_KNOWN_ROLES, isValidEmail, UserDirectory } from '../../sandbox/user-directory';

/** The endpoint behaviour without HTTP, on a clock the test moves by hand. */
const directoryWithClock = (visibilityDelayMs = 0) => {
  const clock = { now: Date.parse('2030-01-01T00:00:00.000Z') };
  const directory = new UserDirectory({
    tenantName: 'acme',
    knownRoles: DEFAULT_KNOWN_ROLES,
    defaultRoles: ['tenant-member'],
    inviteEnabled: true,
    visibilityDelayMs: () => visibilityDelayMs,
    now: () => clock.now,
  });
  return { directory, clock };
};

const listBody = (directory: UserDirectory, query: Record<string, string> = {}) =>
  directory.list(query).body as ListUsersResponse;

describe('email validation', () => {
  it.each([
    ['ann@x.com', true],
    ['Ann.Lee+hr@mail.example.org', true],
    ['ann@x', false],
    ['@x.com', false],
    ['ann@@x.com', false],
    ['ann@x@y.com', false],
    ['ann@.com', false],
    ['ann@x.', false],
    ['ann @x.com', false],
    ['', false],
  ])('%s is valid: %s', (email, valid) => {
    expect(isValidEmail(email)).toBe(valid);
  });
});

describe('UserDirectory', () => {
  it('creates users with the documented shape and keeps internal fields out of answers', () => {
    const { directory } = directoryWithClock();
    directory.seed({ email: 'Ann@X.com', password: 'secret-123', teams: ['everyone', 'ml'] });
    const [user] = listBody(directory).data;
    expect(user).toEqual({
      id: 'usr_1',
      email: 'ann@x.com',
      tenantName: 'acme',
      metadata: { inviteAccepted: false, registeredInIdp: false, tenantRoleManagedBy: 'initial' },
      roles: ['tenant-member'],
      rolesWithResource: [
        {
          roleId: 'tenant:tenant-member',
          resourceType: 'tenant',
          resourceId: 'acme',
          roleName: 'tenant-member',
        },
      ],
      accounts: [],
      active: true,
      isEditable: true,
      createdAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:00.000Z',
    });
    expect(directory.users()[0]).toMatchObject({ password: 'secret-123', teams: ['everyone', 'ml'] });
  });

  it('answers copies, so callers cannot change the table behind its back', () => {
    const { directory } = directoryWithClock();
    directory.seed({ email: 'ann@x.com' });
    const [listed] = listBody(directory).data as User[];
    listed!.active = false;
    directory.users()[0]!.roles!.push('tenant-admin');
    expect(directory.users()[0]).toMatchObject({ active: true, roles: ['tenant-member'] });
  });

  it('hides a new user until its visibility delay passed, yet counts it as existing', () => {
    const { directory, clock } = directoryWithClock(1_000);
    expect(directory.register({ email: 'late@x.com' }).status).toBe(200);
    const id = directory.users()[0]!.id;
    expect(directory.users()[0]!.visibleAt).toBe('2030-01-01T00:00:01.000Z');

    expect(listBody(directory).pagination.total).toBe(0);
    expect(directory.get(id).status).toBe(404);
    expect(directory.updateRoles({ email: 'late@x.com', roles: ['tenant-admin'] }).status).toBe(404);
    expect(directory.deactivate({ email: 'late@x.com' }).status).toBe(404);
    expect(directory.activate({ email: 'late@x.com' }).status).toBe(404);
    expect(directory.remove(id, {}).status).toBe(404);
    const password = { loginId: 'late@x.com', newPassword: 'long-enough', oldPassword: '' };
    expect(directory.changePassword(password).status).toBe(404);
    expect(directory.register({ email: 'late@x.com' }).status).toBe(409);
    expect(directory.register({ email: 'late@x.com', skipIfUserExists: true }).status).toBe(200);
    expect(directory.invite({ email: 'late@x.com', acceptInviteClientUrl: 'https://a.b/x' }).status).toBe(
      409,
    );

    clock.now += 1_000;
    expect(listBody(directory).pagination.total).toBe(1);
    expect(directory.get(id).status).toBe(200);
    expect(directory.updateRoles({ email: 'late@x.com', roles: ['tenant-admin'] })).toMatchObject({
      status: 200,
      effect: 'roles-updated',
    });
  });

  it('replaces roles of one resource type and leaves the others alone', () => {
    const { directory, clock } = directoryWithClock();
    directory.seed({
      email: 'ann@x.com',
      rolesWithResource: [{ resourceType: 'cluster', roleName: 'cluster-viewer', resourceId: 'c1' }],
    });
    clock.now += 5_000;
    const outcome = directory.updateRoles({
      email: 'ANN@x.com',
      resourceType: 'workspace',
      roles: ['workspace-editor', 'workspace-editor'],
    });
    expect(outcome).toEqual({ status: 200, body: {}, effect: 'roles-updated' });
    const user = directory.users()[0]!;
    expect(user.roles).toEqual(['tenant-member']);
    expect(user.metadata.tenantRoleManagedBy).toBe('initial');
    expect(user.updatedAt).toBe('2030-01-01T00:00:05.000Z');
    expect(user.rolesWithResource?.map((role) => role.roleId)).toEqual([
      'tenant:tenant-member',
      'cluster:cluster-viewer',
      'workspace:workspace-editor',
    ]);
    expect(user.rolesWithResource?.find((role) => role.resourceType === 'workspace')?.resourceId).toBe(
      'default',
    );
  });

  it('seeds tenant roles from rolesWithResource when roles are not given', () => {
    const { directory } = directoryWithClock();
    const seeded = directory.seed({
      email: 'boss@x.com',
      rolesWithResource: [{ resourceType: 'tenant', roleName: 'tenant-admin' }],
      displayName: 'The Boss',
      active: false,
    });
    expect(seeded).toMatchObject({
      roles: ['tenant-admin'],
      active: false,
      metadata: { displayName: 'The Boss' },
    });
    expect(seeded.rolesWithResource).toEqual([
      { roleId: 'tenant:tenant-admin', resourceType: 'tenant', resourceId: 'acme', roleName: 'tenant-admin' },
    ]);
  });

  it('refuses to seed a duplicate or an invalid email', () => {
    const { directory } = directoryWithClock();
    directory.seed({ email: 'ann@x.com' });
    expect(() => directory.seed({ email: 'ANN@x.com' })).toThrow(/already exists/);
    expect(() => directory.seed({ email: 'not-an-email' })).toThrow(/"email"/);
  });

  it('reset empties the table and restarts ids', () => {
    const { directory } = directoryWithClock();
    directory.seed({ email: 'ann@x.com' });
    directory.invite({ email: 'bob@x.com', acceptInviteClientUrl: 'https://a.b/accept' });
    directory.reset();
    expect(directory.users()).toEqual([]);
    expect(directory.emailsSent()).toEqual([]);
    expect(directory.seed({ email: 'cid@x.com' }).id).toBe('usr_1');
  });

  it('appends the token to an invitation link that already has a query', () => {
    const { directory } = directoryWithClock();
    const outcome = directory.invite({
      email: 'bob@x.com',
      acceptInviteClientUrl: 'https://a.b/accept?from=hr',
    });
    expect((outcome.body as { link: string }).link).toMatch(
      /^https:\/\/a\.b\/accept\?from=hr&token=[0-9a-f]{32}$/,
    );
  });
});
