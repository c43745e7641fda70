import { describe, expect, it } from 'vitest';
import {
  type ConvergenceConfig,
  type ConvergenceDeps,
  convergeEvent,
} from '../../functions/core/engine/converge-event';
import { DirectoryPages, type DirectoryPagesOptions } from '../../functions/core/engine/directory-pages';
import type { UsersApi } from '../../functions/core/engine/ports';
import type { CanonicalEvent } from '../../functions/core/events/canonical-event';
import type { ListUsersParams, User } from '../../functions/core/truefoundry/api-contract';
import { CredentialedUsersApiProvider } from '../../functions/core/truefoundry/credentials';
import type { Pacer } from '../../functions/core/truefoundry/rate-limiter';
import type { CallRecord, Sandbox } from '../../sandbox';
import { engineFor, event } from '../support/engine-harness';
import { useSandbox } from '../support/sandbox';

/*
 * Directory pages (directory-pages.ts): when many events wait, a page of TrueFoundry's users stands in for
 * each new hire's exact-email read; it proves absence only, for a conflict-safe create, and never decides
 * anything about a user it lists, nor for an offboard or a redelivery.
 */

const sandboxOf = useSandbox();

/** A page read of the directory, as opposed to an event's exact-email read (which carries `query`). */
const isPageRead = (c: CallRecord) =>
  c.method === 'GET' && c.path.endsWith('/users') && c.query.query === undefined;
const isEmailRead = (c: CallRecord) =>
  c.method === 'GET' && c.path.endsWith('/users') && c.query.query !== undefined;
/** `METHOD /last-segment`, with the page reads named apart and any status but 200. */
const shapeOf = (c: CallRecord) =>
  `${isPageRead(c) ? 'PAGE' : c.method} /${c.path.split('/').at(-1)}${c.status === 200 ? '' : ` → ${c.status}`}`;

type Engine = { deps: ConvergenceDeps; run: (e: CanonicalEvent, attempt?: number) => Promise<unknown> };

/** The engine over the sandbox with pages wired and `waiting` events in the backlog. */
function pagedEngine(
  sandbox: Sandbox,
  options: {
    waiting?: number;
    pages?: DirectoryPagesOptions;
    config?: Partial<ConvergenceConfig>;
    pacer?: Pacer;
  } = {},
): Engine & { directory: DirectoryPages } {
  const base = engineFor(sandbox, options.config ? { config: options.config } : {});
  const directory = new DirectoryPages(options.pages);
  const deps: ConvergenceDeps = {
    ...base.deps,
    ...(options.pacer
      ? {
          api: new CredentialedUsersApiProvider(
            async () => ({ baseUrl: sandbox.url, apiKey: sandbox.apiKey }),
            { timeoutMs: 2_000, retry: { baseDelayMs: 1, maxAttempts: 3 }, rateLimiter: options.pacer },
          ),
        }
      : {}),
    directory,
    backlog: { waiting: () => options.waiting ?? 100 },
  };
  return { deps, directory, run: (e) => convergeEvent(e, deps) };
}

const hiresOf = (prefix: string, count: number, roles = ['tenant-admin']) =>
  Array.from({ length: count }, (_, i) => event('hire', `${prefix}${i}@example.com`, { roles }));
const userOf = (sandbox: Sandbox, email: string) => sandbox.users().find((u) => u.email === email);

describe('directory pages: a batch of new hires', () => {
  it('costs one page and a create and a roles call per hire; a replay of them all costs nothing', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'old@example.com' });
    const engine = pagedEngine(sandbox);
    const hires = hiresOf('new', 20);
    // Side by side, as a worker pool runs them: one listing serves them all.
    const outcomes = await Promise.all(hires.map((h) => engine.run(h)));
    expect(outcomes.every((o) => (o as { status: string }).status === 'succeeded')).toBe(true);
    const calls = sandbox.calls();
    expect(calls.filter(isPageRead)).toHaveLength(1);
    expect(calls.filter(isEmailRead)).toHaveLength(0);
    expect(calls).toHaveLength(1 + 2 * hires.length);
    for (const h of hires) {
      expect(userOf(sandbox, h.employee.email)).toMatchObject({ active: true, roles: ['tenant-admin'] });
    }

    sandbox.clearCalls();
    for (const h of hires) expect(await engine.run(h)).toMatchObject({ status: 'succeeded', replayed: true });
    expect(sandbox.calls()).toEqual([]);
  });

  it('reads each user as before when few events wait', async () => {
    const sandbox = sandboxOf();
    const engine = pagedEngine(sandbox, { waiting: 4 });
    for (const h of hiresOf('few', 3)) await engine.run(h);
    expect(sandbox.calls().map(shapeOf)).toEqual(
      Array.from({ length: 3 }, () => ['GET /users', 'POST /register', 'PATCH /roles']).flat(),
    );
  });

  it('counts page reads against the rate limiter like any call', async () => {
    const sandbox = sandboxOf();
    let turns = 0;
    const pacer: Pacer = {
      acquire: async () => {
        turns += 1;
      },
      pauseFor: () => undefined,
    };
    const engine = pagedEngine(sandbox, { pacer });
    await Promise.all(hiresOf('paced', 6).map((h) => engine.run(h)));
    expect(sandbox.calls().filter(isPageRead)).toHaveLength(1);
    expect(turns).toBe(sandbox.calls().length);
  });
});

describe('directory pages: what a page never decides', () => {
  it('a user the page lists is read by its event: a rehire activates, a role change sets roles', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'left@example.com', active: false, roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'stays@example.com', roles: ['tenant-member'] });
    const engine = pagedEngine(sandbox);
    await engine.run(event('hire', 'left@example.com', { roles: ['tenant-admin'] }));
    await engine.run(event('role_change', 'stays@example.com', { roles: ['tenant-viewer'] }));
    expect(sandbox.calls().map(shapeOf)).toEqual([
      'PAGE /users',
      'GET /users',
      'PATCH /activate',
      'PATCH /roles',
      'GET /users',
      'PATCH /roles',
    ]);
    expect(userOf(sandbox, 'left@example.com')).toMatchObject({ active: true, roles: ['tenant-admin'] });
    expect(userOf(sandbox, 'stays@example.com')).toMatchObject({ active: true, roles: ['tenant-viewer'] });
  });

  it('an offboard reads its user even when the page does not list them (created after it was taken)', async () => {
    const sandbox = sandboxOf();
    const engine = pagedEngine(sandbox);
    await engine.run(hiresOf('first', 1)[0] as CanonicalEvent);
    sandbox.seedUser({ email: 'late@example.com' });
    sandbox.clearCalls();
    await engine.run(event('offboard', 'late@example.com'));
    expect(sandbox.calls().map(shapeOf)).toEqual(['GET /users', 'PATCH /deactivate']);
    expect(userOf(sandbox, 'late@example.com')?.active).toBe(false);
  });

  it('a redelivery reads its user itself', async () => {
    const sandbox = sandboxOf();
    const engine = pagedEngine(sandbox);
    const hire = hiresOf('again', 1)[0] as CanonicalEvent;
    // The first delivery died before its read (a crash): the event has one attempt on record already.
    await engine.deps.store.events.startAttempt(hire, new Date().toISOString());
    await engine.run(hire);
    expect(sandbox.calls().map(shapeOf)).toEqual(['GET /users', 'POST /register', 'PATCH /roles']);
  });
});

describe('directory pages: a stale page', () => {
  it('register: a deactivated user created after the page answers 409, is read, and is activated', async () => {
    const sandbox = sandboxOf();
    const engine = pagedEngine(sandbox, {
      config: { acceptInviteUrl: 'https://app.example.com/accept' },
    });
    await engine.run(hiresOf('warm', 1)[0] as CanonicalEvent);
    // After the page was taken: another worker's hire and offboard of the same address.
    sandbox.seedUser({
      email: 'back@example.com',
      active: false,
      roles: ['tenant-member'],
      rolesWithResource: [{ resourceType: 'workspace', roleName: 'workspace-editor' }],
    });
    sandbox.clearCalls();
    const rehire = event('hire', 'back@example.com', { roles: ['tenant-admin'], resourceRoles: [] });
    expect(await engine.run(rehire)).toMatchObject({ status: 'succeeded' });
    expect(sandbox.calls().map(shapeOf)).toEqual([
      'POST /register → 409',
      'GET /users',
      'PATCH /activate',
      'PATCH /roles',
    ]);
    const register = sandbox.calls()[0];
    expect(register?.body).toMatchObject({ email: 'back@example.com', skipIfUserExists: false });
    expect(userOf(sandbox, 'back@example.com')).toMatchObject({ active: true, roles: ['tenant-admin'] });
    expect(sandbox.emailsSent().filter((m) => m.to === 'back@example.com')).toEqual([]);
    const record = await engine.deps.store.events.get(rehire.id);
    expect(record?.steps.map((s) => `${s.action} ${s.outcome}`)).toEqual([
      'register exists',
      'activate done',
      'set-roles done',
    ]);
  });

  it('invite: a user created after the page answers 409 and gets no second invitation', async () => {
    const sandbox = sandboxOf();
    const engine = pagedEngine(sandbox, {
      config: { provisionMode: 'invite', acceptInviteUrl: 'https://app.example.com/accept' },
    });
    const first = event('hire', 'twice@example.com', { roles: ['tenant-member'] });
    await engine.run(hiresOf('warm', 1)[0] as CanonicalEvent);
    // The address was invited after the page was taken (say, by an earlier event whose answer was lost).
    await engine.run(first);
    expect(sandbox.emailsSent().filter((m) => m.to === 'twice@example.com')).toHaveLength(1);
    sandbox.clearCalls();
    // Another event for the same account, while the page still does not list it.
    await engine.run(event('hire', 'twice@example.com', { roles: ['tenant-admin'] }));
    expect(sandbox.calls().map(shapeOf)).toEqual(['POST /invite → 409', 'GET /users', 'PATCH /roles']);
    expect(sandbox.emailsSent().filter((m) => m.to === 'twice@example.com')).toHaveLength(1);
    expect(userOf(sandbox, 'twice@example.com')).toMatchObject({ roles: ['tenant-admin'] });
  });

  it('a page older than its bound is read again', async () => {
    const sandbox = sandboxOf();
    let nowMs = 0;
    const engine = pagedEngine(sandbox, { pages: { maxAgeMs: 1_000, now: () => nowMs } });
    await engine.run(hiresOf('a', 1)[0] as CanonicalEvent);
    nowMs = 1_000;
    await engine.run(hiresOf('b', 1)[0] as CanonicalEvent);
    expect(sandbox.calls().filter(isPageRead)).toHaveLength(1);
    nowMs = 1_001;
    await engine.run(hiresOf('c', 1)[0] as CanonicalEvent);
    expect(sandbox.calls().filter(isPageRead)).toHaveLength(2);
  });

  it('a failed page read falls back to the event’s own read', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ method: 'GET', path: '/api/svc/v1/users', status: 400 }] });
    const engine = pagedEngine(sandbox);
    expect(await engine.run(hiresOf('fallback', 1)[0] as CanonicalEvent)).toMatchObject({
      status: 'succeeded',
    });
    expect(sandbox.calls().map(shapeOf)).toEqual([
      'PAGE /users → 400',
      'GET /users',
      'POST /register',
      'PATCH /roles',
    ]);
  });
});

/** A users API whose list serves `emails` in pages, recording each page asked for. */
function listingApi(emails: string[]): { api: UsersApi; pages: ListUsersParams[] } {
  const pages: ListUsersParams[] = [];
  const user = (email: string) => ({ email }) as User;
  const refuse = () => Promise.reject(new Error('not expected in this test'));
  const api: UsersApi = {
    list: async (params = {}) => {
      pages.push(params);
      const offset = params.offset ?? 0;
      const limit = params.limit ?? 100;
      return { data: emails.slice(offset, offset + limit).map(user), pagination: { total: emails.length } };
    },
    findByEmail: refuse,
    preRegister: refuse,
    invite: refuse,
    updateRoles: refuse,
    activate: refuse,
    deactivate: refuse,
    delete: refuse,
  };
  return { api, pages };
}

describe('DirectoryPages: when pages are read', () => {
  const emails = Array.from({ length: 25 }, (_, i) => `u${i}@x.com`);

  it('reads every page, deactivated users included, and matches emails in any case', async () => {
    const { api, pages } = listingApi(emails);
    const directory = new DirectoryPages({ pageSize: 10 });
    expect(await directory.provesAbsent('U3@X.com', api, 10)).toBe(false);
    expect(await directory.provesAbsent('new@x.com', api, 10)).toBe(true);
    expect(pages).toEqual([0, 10, 20].map((offset) => ({ limit: 10, offset, showInvalidUsers: true })));
  });

  it('is worth reading only for enough waiting events: at least five, and two per page', async () => {
    const { api, pages } = listingApi(emails);
    let nowMs = 0;
    const directory = new DirectoryPages({ pageSize: 10, maxAgeMs: 100, now: () => nowMs });
    expect(await directory.provesAbsent('new@x.com', api, 4)).toBe(false);
    expect(pages).toHaveLength(0);
    expect(await directory.provesAbsent('new@x.com', api, 5)).toBe(true);
    expect(pages).toHaveLength(3);
    // Now it knows the directory is three pages: five waiting events no longer pay for them.
    nowMs = 200;
    expect(await directory.provesAbsent('new@x.com', api, 5)).toBe(false);
    expect(await directory.provesAbsent('new@x.com', api, 6)).toBe(true);
    expect(pages).toHaveLength(6);
  });

  it('reads one listing for many events asking at once', async () => {
    const { api, pages } = listingApi(emails);
    const directory = new DirectoryPages({ pageSize: 10 });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => directory.provesAbsent(`n${i}@x.com`, api, 8)),
    );
    expect(answers.every(Boolean)).toBe(true);
    expect(pages).toHaveLength(3);
  });
});
