import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ErrorBody,
  type ListUsersResponse,
  ROLES_PATH,
  type SubjectPermission,
  USERS_PATH,
  type User,
  userPath,
  userPermissionsPath,
  userResourcesPath,
  userTeamsPath,
} from '../../functions/core/truefoundry/api-contract';
import { type Sandbox, startSandbox } from '../../sandbox';
import { TEAM_MEMBER_ROLE } from '../../sandbox/user-directory';
import { call } from './http';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ tenantName: 'acme' });
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.reset());

const list = (query: Record<string, string> = {}) =>
  call<ListUsersResponse>(sandbox, 'GET', USERS_PATH, { query });
const emails = (users: User[]) => users.map((user) => user.email);

describe('GET users (list)', () => {
  beforeEach(() => {
    for (let index = 1; index <= 7; index += 1) sandbox.seedUser({ email: `user${index}@x.com` });
  });

  it('answers the first page with defaults and the total', async () => {
    const reply = await list();
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(reply.body.pagination).toEqual({ total: 7, offset: 0, limit: 100 });
    expect(emails(reply.body.data)).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `user${n}@x.com`));
  });

  it('pages by offset and limit in creation order, with a partial last page', async () => {
    const pages = [];
    for (let offset = 0; offset < 7; offset += 3)
      pages.push(await list({ limit: '3', offset: String(offset) }));
    expect(pages.map((page) => emails(page.body.data).length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((page) => emails(page.body.data))).toEqual(emails((await list()).body.data));
    expect(pages[2]!.body.pagination).toEqual({ total: 7, offset: 6, limit: 3 });
    const beyond = await list({ offset: '50' });
    expect(beyond.body).toEqual({ data: [], pagination: { total: 7, offset: 50, limit: 100 } });
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '1001' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ limit: '2.5' }, 'limit'],
    [{ offset: '-1' }, 'offset'],
    [{ showInvalidUsers: 'yes' }, 'showInvalidUsers'],
  ])('rejects %j with 422 naming the parameter', async (query, field) => {
    const reply = await call<ErrorBody>(sandbox, 'GET', USERS_PATH, { query });
    expect(reply.status).toBe(422);
    expect(reply.body).toMatchObject({ statusCode: 422, code: 'VALIDATION_ERROR' });
    expect(reply.body.message).toContain(`"${field}"`);
  });

  it('accepts the limit bounds 1 and 1000', async () => {
    expect((await list({ limit: '1' })).body.data).toHaveLength(1);
    expect((await list({ limit: '1000' })).body.data).toHaveLength(7);
  });
});

describe('free-text query', () => {
  beforeEach(() => {
    sandbox.seedUser({ email: 'ann@x.com', displayName: 'Ann Lee' });
    sandbox.seedUser({ email: 'joann@x.com' });
    sandbox.seedUser({ email: 'bob@y.org', displayName: 'Robert ANNEX' });
  });

  it('matches a case-insensitive substring of the email, including other addresses that contain it', async () => {
    const reply = await list({ query: 'ANN@X.COM' });
    // The trap a client must handle: searching one address can return a longer one that contains it.
    expect(emails(reply.body.data)).toEqual(['ann@x.com', 'joann@x.com']);
    expect(reply.body.pagination.total).toBe(2);
  });

  it('matches the email only: a user whose display name contains the query but whose email does not is not returned', async () => {
    // TrueFoundry documents `query` as an email substring match.
    for (const query of ['annex', 'ROBERT', 'lee']) {
      expect((await list({ query })).body, query).toEqual({
        data: [],
        pagination: { total: 0, offset: 0, limit: 100 },
      });
    }
    // "ann" is in all three display names or emails, but in only two emails.
    expect(emails((await list({ query: 'ann' })).body.data)).toEqual(['ann@x.com', 'joann@x.com']);
    expect(emails((await list({ query: 'bob' })).body.data)).toEqual(['bob@y.org']);
  });

  it('counts all matches in total while paging them', async () => {
    const reply = await list({ query: 'ann', limit: '1', offset: '1' });
    expect(emails(reply.body.data)).toEqual(['joann@x.com']);
    expect(reply.body.pagination).toEqual({ total: 2, offset: 1, limit: 1 });
  });
});

describe('showInvalidUsers', () => {
  it('hides deactivated users unless asked for them', async () => {
    sandbox.seedUser({ email: 'on@x.com' });
    sandbox.seedUser({ email: 'off@x.com', active: false });
    expect(emails((await list()).body.data)).toEqual(['on@x.com']);
    expect(emails((await list({ showInvalidUsers: 'false' })).body.data)).toEqual(['on@x.com']);
    const all = await list({ showInvalidUsers: 'true' });
    expect(emails(all.body.data)).toEqual(['on@x.com', 'off@x.com']);
    expect(all.body.data[1]!.active).toBe(false);
  });
});

describe('GET users/{id} and its sub-resources', () => {
  it('answers one user without internal fields', async () => {
    const seeded = sandbox.seedUser({ email: 'ann@x.com', password: 'hunter22', teams: ['everyone'] });
    const reply = await call<{ data: Record<string, unknown> }>(sandbox, 'GET', userPath(seeded.id));
    expect(reply.status).toBe(200);
    expect(reply.body.data).toMatchObject({
      id: seeded.id,
      email: 'ann@x.com',
      tenantName: 'acme',
      active: true,
    });
    for (const internal of ['password', 'visibleAt', 'teams'])
      expect(reply.body.data).not.toHaveProperty(internal);
  });

  it('answers 404 for an unknown id on every user route', async () => {
    for (const path of [userPath, userResourcesPath, userPermissionsPath, userTeamsPath]) {
      const reply = await call<ErrorBody>(sandbox, 'GET', path('usr_404'));
      expect(reply.status).toBe(404);
      expect(reply.body).toMatchObject({ statusCode: 404, code: 'USER_NOT_FOUND' });
    }
  });

  it('lists one resource item per non-tenant role, one permission per role, and teams with roles', async () => {
    const seeded = sandbox.seedUser({
      email: 'ann@x.com',
      rolesWithResource: [
        { resourceType: 'workspace', roleName: 'workspace-admin', resourceId: 'ws-1' },
        { resourceType: 'workspace', roleName: 'workspace-viewer', resourceId: 'ws-1' },
        { resourceType: 'cluster', roleName: 'cluster-viewer' },
      ],
      teams: ['everyone', 'ml'],
    });
    const resources = await call(sandbox, 'GET', userResourcesPath(seeded.id));
    expect(resources.status).toBe(200);
    // The exact wire shape of TrueFoundry's UserResource: resourceType, resourceId, roleId (resourceName optional).
    expect(resources.body).toEqual({
      data: [
        { resourceType: 'workspace', resourceId: 'ws-1', roleId: 'workspace:workspace-admin' },
        { resourceType: 'workspace', resourceId: 'ws-1', roleId: 'workspace:workspace-viewer' },
        { resourceType: 'cluster', resourceId: 'default', roleId: 'cluster:cluster-viewer' },
      ],
    });
    const permissions = await call<{ data: SubjectPermission[] }>(
      sandbox,
      'GET',
      userPermissionsPath(seeded.id),
    );
    expect(permissions.body.data).toHaveLength(4);
    expect(permissions.body.data[0]).toEqual({
      resourceType: 'tenant',
      resourceId: 'acme',
      roleId: 'tenant:tenant-member',
      roleName: 'tenant-member',
      subjectId: seeded.id,
      subjectType: 'user',
    });
    const teams = await call(sandbox, 'GET', userTeamsPath(seeded.id));
    expect(teams.status).toBe(200);
    // The exact wire shape of TrueFoundry's UserTeamInfo: teamName and the user's roles in the team, no id.
    expect(teams.body).toEqual({
      data: [
        { teamName: 'everyone', roles: [TEAM_MEMBER_ROLE] },
        { teamName: 'ml', roles: [TEAM_MEMBER_ROLE] },
      ],
    });
  });

  it('answers an empty list of resources for a user who holds only tenant roles', async () => {
    const seeded = sandbox.seedUser({ email: 'ann@x.com', roles: ['tenant-admin'] });
    expect((await call(sandbox, 'GET', userResourcesPath(seeded.id))).body).toEqual({ data: [] });
  });

  it('follows a roles update in the resources it lists', async () => {
    const seeded = sandbox.seedUser({ email: 'ann@x.com' });
    const update = await call(sandbox, 'PATCH', ROLES_PATH, {
      body: { email: 'ann@x.com', roles: ['workspace-editor'], resourceType: 'workspace' },
    });
    expect(update.status).toBe(200);
    expect((await call(sandbox, 'GET', userResourcesPath(seeded.id))).body).toEqual({
      data: [{ resourceType: 'workspace', resourceId: 'default', roleId: 'workspace:workspace-editor' }],
    });
  });

  it('adds resourceName to resources and permissions only where the resource has a known name', async () => {
    const seeded = sandbox.seedUser({
      email: 'ann@x.com',
      rolesWithResource: [
        {
          resourceType: 'workspace',
          roleName: 'workspace-admin',
          resourceId: 'ws-1',
          resourceName: 'ml-prod',
        },
        { resourceType: 'cluster', roleName: 'cluster-viewer', resourceId: 'c-1' },
      ],
    });
    const resources = await call(sandbox, 'GET', userResourcesPath(seeded.id));
    expect(resources.body).toEqual({
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
    const permissions = await call<{ data: SubjectPermission[] }>(
      sandbox,
      'GET',
      userPermissionsPath(seeded.id),
    );
    expect(permissions.body.data.find((p) => p.resourceId === 'ws-1')).toMatchObject({
      resourceName: 'ml-prod',
    });
    expect(permissions.body.data.find((p) => p.resourceId === 'c-1')).not.toHaveProperty('resourceName');
  });
});

describe('DELETE users/{id}', () => {
  it('removes a user who holds nothing', async () => {
    const seeded = sandbox.seedUser({ email: 'ann@x.com' });
    const reply = await call(sandbox, 'DELETE', userPath(seeded.id), { query: { tenantName: 'acme' } });
    expect(reply).toMatchObject({ status: 200, body: {} });
    expect(sandbox.users()).toEqual([]);
    expect((await call(sandbox, 'GET', userPath(seeded.id))).status).toBe(404);
    expect((await call(sandbox, 'DELETE', userPath(seeded.id))).status).toBe(404);
  });

  it('refuses (400) while the user holds a resource role or a team other than everyone', async () => {
    const collaborator = sandbox.seedUser({
      email: 'ann@x.com',
      rolesWithResource: [{ resourceType: 'workspace', roleName: 'workspace-editor' }],
    });
    const teamMember = sandbox.seedUser({ email: 'bob@x.com', teams: ['everyone', 'ml'] });
    for (const user of [collaborator, teamMember]) {
      const reply = await call<ErrorBody>(sandbox, 'DELETE', userPath(user.id));
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ statusCode: 400, code: 'USER_HAS_RESOURCES' });
    }
    expect(sandbox.users()).toHaveLength(2);
  });

  it('rejects a tenantName that is not the sandbox tenant', async () => {
    const seeded = sandbox.seedUser({ email: 'ann@x.com' });
    const reply = await call<ErrorBody>(sandbox, 'DELETE', userPath(seeded.id), {
      query: { tenantName: 'other' },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.message).toContain('"tenantName"');
    expect(sandbox.users()).toHaveLength(1);
  });
});
