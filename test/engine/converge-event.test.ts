import { describe, expect, it, vi } from 'vitest';
import type { ConvergenceConfig } from '../../functions/core/engine/converge-event';
import type { Sandbox } from '../../sandbox';
import { callsOf, engineFor, event } from '../support/engine-harness';
import { useSandbox } from '../support/sandbox';

const sandboxOf = useSandbox();

type Case = {
  name: string;
  seed?: (sandbox: Sandbox) => void;
  config?: Partial<ConvergenceConfig>;
  event: ReturnType<typeof event>;
  calls: string[];
  status: 'succeeded' | 'superseded' | 'failed';
  after?: (sandbox: Sandbox) => void;
};

const ada = 'ada@example.com';
const active = (sandbox: Sandbox, roles = ['tenant-member']) => sandbox.seedUser({ email: ada, roles });
const userOf = (sandbox: Sandbox, email = ada) => sandbox.users().find((u) => u.email === email);
/** Until the sandbox shows a user it created behind a visibility delay: its own clock decides, not a sleep. */
const untilVisible = (sandbox: Sandbox, email = ada) =>
  vi.waitFor(
    () => expect(Date.parse(userOf(sandbox, email)?.visibleAt ?? '')).toBeLessThanOrEqual(Date.now()),
    { timeout: 5_000, interval: 10 },
  );

const cases: Case[] = [
  {
    name: 'hire of someone new (register): read, pre-register, set roles',
    event: event('hire', ada, { roles: ['tenant-admin'] }),
    calls: ['GET /', 'POST /register', 'PATCH /roles'],
    status: 'succeeded',
    after: (s) => expect(userOf(s)).toMatchObject({ active: true, roles: ['tenant-admin'] }),
  },
  {
    name: 'hire of someone new (invite): read, invite, set roles',
    config: { provisionMode: 'invite', acceptInviteUrl: 'https://app.example.com/accept' },
    event: event('hire', ada, { roles: ['tenant-member'] }),
    calls: ['GET /', 'POST /invite', 'PATCH /roles'],
    status: 'succeeded',
    after: (s) => expect(s.emailsSent().map((e) => e.to)).toEqual([ada]),
  },
  {
    name: 'hire with resource roles: one roles call per resource type',
    event: event('hire', ada, {
      roles: ['tenant-member'],
      resourceRoles: [{ resourceType: 'workspace', roles: ['workspace-editor'] }],
    }),
    calls: ['GET /', 'POST /register', 'PATCH /roles', 'PATCH /roles'],
    status: 'succeeded',
  },
  {
    name: 'hire without roles: the mapping rules decide',
    event: event('hire', ada, { employee: { department: 'ML Platform', title: 'Head of ML' } }),
    calls: ['GET /', 'POST /register', 'PATCH /roles'],
    status: 'succeeded',
    after: (s) => expect(userOf(s)?.roles).toEqual(['tenant-admin']),
  },
  {
    name: 'hire of someone already in the wanted state: one read, no write',
    seed: (s) => active(s),
    event: event('hire', ada, { roles: ['tenant-member'] }),
    calls: ['GET /'],
    status: 'succeeded',
  },
  {
    name: 'rehire: activate, then the roles that differ',
    seed: (s) => s.seedUser({ email: ada, active: false, roles: ['tenant-member'] }),
    event: event('hire', ada, { roles: ['tenant-admin'] }),
    calls: ['GET /', 'PATCH /activate', 'PATCH /roles'],
    status: 'succeeded',
    after: (s) => expect(userOf(s)).toMatchObject({ active: true, roles: ['tenant-admin'] }),
  },
  {
    name: 'role change: only the roles',
    seed: (s) => active(s),
    event: event('role_change', ada, { roles: ['tenant-admin'] }),
    calls: ['GET /', 'PATCH /roles'],
    status: 'succeeded',
  },
  {
    name: 'role change to the roles the user has: no write',
    seed: (s) => active(s, ['tenant-admin']),
    event: event('role_change', ada, { roles: ['tenant-admin'] }),
    calls: ['GET /'],
    status: 'succeeded',
  },
  {
    name: 'role change of a deactivated user: no write, no reactivation',
    seed: (s) => s.seedUser({ email: ada, active: false }),
    event: event('role_change', ada, { roles: ['tenant-admin'] }),
    calls: ['GET /'],
    status: 'succeeded',
    after: (s) => expect(userOf(s)?.active).toBe(false),
  },
  {
    name: 'offboard: deactivate',
    seed: (s) => active(s),
    event: event('offboard', ada),
    calls: ['GET /', 'PATCH /deactivate'],
    status: 'succeeded',
    after: (s) => expect(userOf(s)?.active).toBe(false),
  },
  {
    name: 'offboard with delete configured: deactivate, then delete',
    seed: (s) => active(s),
    config: { deleteAfterOffboard: true },
    event: event('offboard', ada),
    calls: ['GET /', 'PATCH /deactivate', 'DELETE /usr'],
    status: 'succeeded',
    after: (s) => expect(userOf(s)).toBeUndefined(),
  },
  {
    name: 'offboard of someone TrueFoundry does not know: converged already',
    event: event('offboard', ada),
    calls: ['GET /'],
    status: 'succeeded',
  },
  {
    name: 'the substring trap: joann@x.com is not ann@x.com',
    seed: (s) => s.seedUser({ email: 'joann@x.com', roles: ['tenant-admin'] }),
    event: event('hire', 'ann@x.com', { roles: ['tenant-member'] }),
    calls: ['GET /', 'POST /register', 'PATCH /roles'],
    status: 'succeeded',
    after: (s) => {
      expect(userOf(s, 'joann@x.com')?.roles).toEqual(['tenant-admin']);
      expect(userOf(s, 'ann@x.com')?.roles).toEqual(['tenant-member']);
    },
  },
  {
    name: 'offboard, substring trap: joann stays active',
    seed: (s) => s.seedUser({ email: 'joann@x.com' }),
    event: event('offboard', 'ann@x.com'),
    calls: ['GET /'],
    status: 'succeeded',
    after: (s) => expect(userOf(s, 'joann@x.com')?.active).toBe(true),
  },
  {
    name: 'a role TrueFoundry does not know: failed, with the role in the reason',
    seed: (s) => active(s),
    event: event('role_change', ada, { roles: ['wizard'] }),
    calls: ['GET /', 'PATCH /roles → 422'],
    status: 'failed',
  },
  {
    name: 'invite on a tenant whose login TrueFoundry does not manage: failed with a hint',
    config: { provisionMode: 'invite', acceptInviteUrl: 'https://app.example.com/accept' },
    seed: (s) => s.setFaults({ scripted: [{ method: 'POST', status: 403 }] }),
    event: event('hire', ada, { roles: ['tenant-member'] }),
    calls: ['GET /', 'POST /invite → 403'],
    status: 'failed',
  },
];

describe('convergeEvent: the exact calls per event type', () => {
  it.each(cases)('$name', async (c) => {
    const sandbox = sandboxOf();
    c.seed?.(sandbox);
    const engine = engineFor(sandbox, { config: c.config ?? {} });
    const outcome = await engine.run(c.event);
    expect(outcome.status).toBe(c.status);
    expect(callsOf(sandbox).map((call) => call.replace(/usr_\w+/, 'usr'))).toEqual(c.calls);
    const record = await engine.store.events.get(c.event.id);
    expect(record?.status).toBe(c.status);
    expect(record?.steps.map((s) => s.outcome)).toEqual(
      c.calls.slice(1).map((call) => (call.includes('→') ? 'failed' : 'done')),
    );
    c.after?.(sandbox);
  });
});

describe('convergeEvent: exactly once in effect', () => {
  it('a completed event replayed makes no call at all', async () => {
    const sandbox = sandboxOf();
    const engine = engineFor(sandbox);
    const hire = event('hire', ada, { roles: ['tenant-member'] });
    await engine.run(hire);
    sandbox.clearCalls();
    expect(await engine.run(hire)).toMatchObject({ status: 'succeeded', replayed: true });
    expect(sandbox.calls()).toEqual([]);
  });

  it('an event older than the last applied one is superseded without a call: a late hire cannot undo an offboard', async () => {
    const sandbox = sandboxOf();
    active(sandbox);
    const engine = engineFor(sandbox);
    const hire = event('hire', ada, { at: '2026-11-01T09:00:00Z', roles: ['tenant-member'] });
    const offboard = event('offboard', ada, { at: '2026-11-20T09:00:00Z' });
    await engine.run(offboard);
    sandbox.clearCalls();
    const outcome = await engine.run(hire);
    expect(outcome).toMatchObject({ status: 'superseded', note: expect.stringContaining(offboard.id) });
    expect(sandbox.calls()).toEqual([]);
    expect(userOf(sandbox)?.active).toBe(false);
    expect((await engine.store.events.get(hire.id))?.status).toBe('superseded');
  });

  it('a new user not visible yet: the 404 after create is transient, and the create is not repeated', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ visibilityDelayMs: 300 });
    const engine = engineFor(sandbox);
    const hire = event('hire', ada, { roles: ['tenant-admin'] });
    const first = await engine.run(hire);
    expect(first).toMatchObject({ status: 'retry', reason: expect.stringContaining('not visible yet') });
    expect((await engine.store.events.get(hire.id))?.status).toBe('queued');
    await untilVisible(sandbox);
    expect(await engine.run(hire)).toMatchObject({ status: 'succeeded' });
    expect(callsOf(sandbox)).toEqual([
      'GET /',
      'POST /register',
      'PATCH /roles → 404',
      'GET /',
      'PATCH /roles',
    ]);
    expect(userOf(sandbox)?.roles).toEqual(['tenant-admin']);
  });

  it('a 409 on invite means the user exists: it converges from there without a second invite', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ visibilityDelayMs: 600 });
    const engine = engineFor(sandbox, {
      config: { provisionMode: 'invite', acceptInviteUrl: 'https://app.example.com/accept' },
    });
    const first = engineFor(sandbox, {
      config: { provisionMode: 'invite', acceptInviteUrl: 'https://a.example.com' },
    });
    await first.run(event('hire', ada, { roles: ['tenant-member'] }));
    sandbox.clearCalls();
    const hire = event('hire', ada, { roles: ['tenant-admin'] });
    expect((await engine.run(hire)).status).toBe('retry');
    await untilVisible(sandbox);
    expect((await engine.run(hire)).status).toBe('succeeded');
    expect(callsOf(sandbox).filter((c) => c.startsWith('POST'))).toEqual(['POST /invite → 409']);
    expect(sandbox.emailsSent()).toHaveLength(1);
    expect(userOf(sandbox)?.roles).toEqual(['tenant-admin']);
  });

  it('a create whose answer was lost is not repeated once the user shows up', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ method: 'POST', drop: true, afterEffect: true }] });
    const engine = engineFor(sandbox);
    const hire = event('hire', ada, { roles: ['tenant-admin'] });
    const r = await engine.run(hire);
    expect(r.status).toBe('retry');
    expect((await engine.run(hire)).status).toBe('succeeded');
    expect(callsOf(sandbox)).toEqual(['GET /', 'POST /register → dropped', 'GET /', 'PATCH /roles']);
    expect(sandbox.users()).toHaveLength(1);
  });

  it('a transient failure of a create hands the event back; once its bound has passed, the next delivery creates it once', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ scripted: [{ method: 'POST', status: 503 }] });
    // A bound of 0: the 503 may have had an effect, but no wait for it (identity.test.ts covers the wait).
    const engine = engineFor(sandbox, { config: { unknownCreateBoundMs: 0 } });
    const hire = event('hire', ada, { roles: ['tenant-member'] });
    const first = await engine.run(hire);
    expect(first).toMatchObject({ status: 'retry', retryAfterMs: expect.any(Number) });
    expect((await engine.run(hire)).status).toBe('succeeded');
    expect(sandbox.calls().filter((c) => c.effect === 'created')).toHaveLength(1);
    expect((await engine.store.events.get(hire.id))?.attempts).toBe(2);
  });

  it('a step claimed by another live worker is left alone and retried after the lease', async () => {
    const sandbox = sandboxOf();
    const engine = engineFor(sandbox);
    const hire = event('hire', ada, { roles: ['tenant-member'] });
    await engine.store.ledger.claim(hire.id, 'create', { owner: 'other', nowMs: Date.now(), leaseMs: 5_000 });
    const outcome = await engine.run(hire);
    expect(outcome).toMatchObject({ status: 'retry', reason: expect.stringContaining('another worker') });
    expect(sandbox.calls().filter((c) => c.method !== 'GET')).toEqual([]);
  });
});

describe('convergeEvent: credentials', () => {
  it('a 401 re-reads the credentials once and goes on with the new key', async () => {
    const sandbox = sandboxOf();
    const oldKey = sandbox.apiKey;
    sandbox.setApiKey('rotated-key');
    const reads: boolean[] = [];
    const engine = engineFor(sandbox, {
      credentials: async ({ fresh }) => {
        reads.push(fresh);
        return { baseUrl: sandbox.url, apiKey: fresh ? 'rotated-key' : oldKey };
      },
    });
    try {
      expect((await engine.run(event('hire', ada, { roles: ['tenant-member'] }))).status).toBe('succeeded');
      expect(reads).toEqual([false, true]);
      expect(callsOf(sandbox)).toEqual(['GET / → 401', 'GET /', 'POST /register', 'PATCH /roles']);
    } finally {
      sandbox.setApiKey(oldKey);
    }
  });

  it('a 401 that survives the re-read is permanent', async () => {
    const sandbox = sandboxOf();
    const engine = engineFor(sandbox, {
      credentials: async () => ({ baseUrl: sandbox.url, apiKey: 'revoked' }),
    });
    const outcome = await engine.run(event('offboard', ada));
    expect(outcome).toMatchObject({ status: 'failed', reason: expect.stringContaining('401') });
    expect(JSON.stringify(outcome)).not.toContain('revoked');
    expect(sandbox.calls()).toHaveLength(2);
  });
});
