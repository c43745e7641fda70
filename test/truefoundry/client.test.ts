import { beforeAll, describe, expect, it } from 'vitest';
import type { UserResource, UserTeam } from '../../functions/core/truefoundry/api-contract';
import { TrueFoundryUsersClient } from '../../functions/core/truefoundry/client';
import { type Sandbox, startSandbox } from '../../sandbox';
import { useSandbox } from '../support/sandbox';

const sandboxOf = useSandbox();

function clientFor(sandbox: Sandbox, baseUrl = sandbox.url): TrueFoundryUsersClient {
  return new TrueFoundryUsersClient({ baseUrl, apiKey: sandbox.apiKey });
}

describe('TrueFoundryUsersClient operations against the sandbox', () => {
  it('lists one page with the wire query names and pagination', async () => {
    const sandbox = sandboxOf();
    for (let i = 0; i < 3; i++) sandbox.seedUser({ email: `user${i}@example.com` });
    const page = await clientFor(sandbox).list({ limit: 2, offset: 1, showInvalidUsers: true });
    expect(page.data.map((u) => u.email)).toEqual(['user1@example.com', 'user2@example.com']);
    expect(page.pagination).toMatchObject({ total: 3, offset: 1, limit: 2 });
    expect(sandbox.calls()[0]).toMatchObject({
      method: 'GET',
      path: '/api/svc/v1/users',
      query: { limit: '2', offset: '1', showInvalidUsers: 'true' },
      status: 200,
    });
  });

  it('joins a base URL with a trailing slash without producing //', async () => {
    const sandbox = sandboxOf();
    await clientFor(sandbox, `${sandbox.url}/`).list();
    await clientFor(sandbox, `${sandbox.url}///`).list();
    expect(sandbox.calls().map((c) => c.path)).toEqual(['/api/svc/v1/users', '/api/svc/v1/users']);
  });

  it('pre-registers with acceptInviteClientURL spelled as the register endpoint wants', async () => {
    const sandbox = sandboxOf();
    await clientFor(sandbox).preRegister({
      email: 'ada@example.com',
      sendInviteEmail: true,
      acceptInviteClientURL: 'https://app.example.com/accept',
    });
    expect(sandbox.calls()[0]).toMatchObject({
      method: 'POST',
      path: '/api/svc/v1/users/register',
      body: {
        email: 'ada@example.com',
        sendInviteEmail: true,
        acceptInviteClientURL: 'https://app.example.com/accept',
      },
      effect: 'created',
      emailSent: true,
    });
    expect(sandbox.users().map((u) => u.email)).toEqual(['ada@example.com']);
    expect(sandbox.emailsSent()[0]?.to).toBe('ada@example.com');
  });

  it('invites with acceptInviteClientUrl spelled as the invite endpoint wants and returns the link', async () => {
    const sandbox = sandboxOf();
    const answer = await clientFor(sandbox).invite({
      email: 'grace@example.com',
      acceptInviteClientUrl: 'https://app.example.com/accept',
    });
    expect(answer.link).toMatch(/^https:\/\/app\.example\.com\/accept/);
    expect(sandbox.calls()[0]).toMatchObject({
      method: 'POST',
      path: '/api/svc/v1/users/invite',
      body: { email: 'grace@example.com', acceptInviteClientUrl: 'https://app.example.com/accept' },
      effect: 'created',
    });
  });

  it('updates roles per resource type', async () => {
    const sandbox = sandboxOf();
    const client = clientFor(sandbox);
    sandbox.seedUser({ email: 'ada@example.com' });
    await client.updateRoles({ email: 'ada@example.com', roles: ['tenant-admin'] });
    await client.updateRoles({
      email: 'ada@example.com',
      roles: ['workspace-editor'],
      resourceType: 'workspace',
    });
    const [user] = sandbox.users();
    expect(user?.roles).toEqual(['tenant-admin']);
    expect(
      user?.rolesWithResource?.filter((r) => r.resourceType === 'workspace').map((r) => r.roleName),
    ).toEqual(['workspace-editor']);
    expect(sandbox.calls().map((c) => [c.method, c.path, c.body])).toEqual([
      ['PATCH', '/api/svc/v1/users/roles', { email: 'ada@example.com', roles: ['tenant-admin'] }],
      [
        'PATCH',
        '/api/svc/v1/users/roles',
        { email: 'ada@example.com', roles: ['workspace-editor'], resourceType: 'workspace' },
      ],
    ]);
  });

  it('gets a user by id, deactivates and activates it', async () => {
    const sandbox = sandboxOf();
    const client = clientFor(sandbox);
    const seeded = sandbox.seedUser({ email: 'ada@example.com' });
    await client.deactivate({ email: 'ada@example.com' });
    expect((await client.get(seeded.id)).data).toMatchObject({ email: 'ada@example.com', active: false });
    await client.activate({ email: 'ada@example.com', tenantName: sandbox.users()[0]?.tenantName });
    expect((await client.get(seeded.id)).data.active).toBe(true);
    expect(sandbox.calls().map((c) => `${c.method} ${c.path}`)).toEqual([
      'PATCH /api/svc/v1/users/deactivate',
      `GET /api/svc/v1/users/${seeded.id}`,
      'PATCH /api/svc/v1/users/activate',
      `GET /api/svc/v1/users/${seeded.id}`,
    ]);
  });

  it('deletes a user, passing tenantName as a query parameter', async () => {
    const sandbox = sandboxOf();
    const seeded = sandbox.seedUser({ email: 'leaver@example.com' });
    await clientFor(sandbox).delete(seeded.id, { tenantName: seeded.tenantName });
    expect(sandbox.users()).toEqual([]);
    expect(sandbox.calls()[0]).toMatchObject({
      method: 'DELETE',
      path: `/api/svc/v1/users/${seeded.id}`,
      query: { tenantName: seeded.tenantName },
    });
  });

  it('changes a password with the wire names', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'ada@example.com', password: 'old-password' });
    await clientFor(sandbox).changePassword({
      loginId: 'ada@example.com',
      oldPassword: 'old-password',
      newPassword: 'new-password',
    });
    expect(sandbox.calls()[0]).toMatchObject({
      path: '/api/svc/v1/users/change-password',
      body: { loginId: 'ada@example.com', oldPassword: 'old-password', newPassword: 'new-password' },
      effect: 'password-changed',
    });
  });

  it('reads resources, permissions and teams of a user, in their exact wire shapes', async () => {
    const sandbox = sandboxOf();
    const client = clientFor(sandbox);
    const seeded = sandbox.seedUser({
      email: 'ada@example.com',
      rolesWithResource: [
        {
          resourceType: 'workspace',
          roleName: 'workspace-admin',
          resourceId: 'ws-1',
          resourceName: 'ml-prod',
        },
        { resourceType: 'cluster', roleName: 'cluster-viewer', resourceId: 'c-1' },
      ],
      teams: ['everyone', 'ml'],
    });
    const resources: { data: UserResource[] } = await client.getResources(seeded.id);
    const permissions = await client.getPermissions(seeded.id);
    const teams: { data: UserTeam[] } = await client.getTeams(seeded.id);
    expect(resources).toEqual({
      data: [
        {
          resourceType: 'workspace',
          resourceId: 'ws-1',
          roleId: 'workspace:workspace-admin',
          resourceName: 'ml-prod',
        },
        { resourceType: 'cluster', resourceId: 'c-1', roleId: 'cluster:cluster-viewer' },
      ],
    });
    expect(permissions.data).toContainEqual(
      expect.objectContaining({
        resourceType: 'workspace',
        roleName: 'workspace-admin',
        subjectId: seeded.id,
      }),
    );
    expect(teams).toEqual({
      data: [
        { teamName: 'everyone', roles: ['team-member'] },
        { teamName: 'ml', roles: ['team-member'] },
      ],
    });
    expect(sandbox.calls().map((c) => c.path)).toEqual([
      `/api/svc/v1/users/${seeded.id}/resources`,
      `/api/svc/v1/users/${seeded.id}/permissions`,
      `/api/svc/v1/users/${seeded.id}/teams`,
    ]);
  });
});

describe('listAll', () => {
  it('walks every page, advancing the offset by the page length, and stops on a short page', async () => {
    const sandbox = sandboxOf();
    for (let i = 0; i < 250; i++) sandbox.seedUser({ email: `u${String(i).padStart(3, '0')}@example.com` });
    const emails: string[] = [];
    for await (const user of clientFor(sandbox).listAll({ limit: 100 })) emails.push(user.email);
    expect(emails).toHaveLength(250);
    expect(new Set(emails).size).toBe(250);
    expect(sandbox.calls().map((c) => c.query.offset)).toEqual(['0', '100', '200']);
  });

  it('asks once more after an exactly full last page, as the SDKs do', async () => {
    const sandbox = sandboxOf();
    for (let i = 0; i < 4; i++) sandbox.seedUser({ email: `u${i}@example.com` });
    const users = [];
    for await (const user of clientFor(sandbox).listAll({ limit: 2 })) users.push(user);
    expect(users).toHaveLength(4);
    expect(sandbox.calls().map((c) => c.query.offset)).toEqual(['0', '2', '4']);
  });
});

describe('findByEmail', () => {
  it('matches the email exactly, not the free-text substring', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'joann@x.com' });
    const client = clientFor(sandbox);
    expect(await client.findByEmail('ann@x.com')).toBeUndefined();
    sandbox.seedUser({ email: 'ann@x.com' });
    expect((await client.findByEmail('ann@x.com'))?.email).toBe('ann@x.com');
  });

  it('matches case-insensitively and finds deactivated users', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'grace.hopper@example.com', active: false });
    const found = await clientFor(sandbox).findByEmail('  Grace.Hopper@Example.COM ');
    expect(found).toMatchObject({ email: 'grace.hopper@example.com', active: false });
    expect(sandbox.calls()[0]?.query).toMatchObject({
      query: 'grace.hopper@example.com',
      showInvalidUsers: 'true',
    });
  });

  it('pages on when the exact match is beyond the first page of substring matches', async () => {
    const sandbox = sandboxOf();
    for (let i = 0; i < 120; i++) sandbox.seedUser({ email: `x${i}ann@x.com` });
    sandbox.seedUser({ email: 'ann@x.com' });
    expect((await clientFor(sandbox).findByEmail('ann@x.com'))?.email).toBe('ann@x.com');
    expect(sandbox.calls()).toHaveLength(2);
  });
});

describe('a real tenant URL shape', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ apiKey: 'other-key' });
    return () => sandbox.close();
  });

  it('sends the bearer key it was given', async () => {
    const client = new TrueFoundryUsersClient({ baseUrl: sandbox.url, apiKey: 'other-key' });
    await expect(client.list()).resolves.toMatchObject({ data: [] });
  });
});
