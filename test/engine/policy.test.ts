import { describe, expect, it } from 'vitest';
import { createMemoryStateStore } from '../../functions/core/adapters/memory';
import type { ConvergenceConfig } from '../../functions/core/engine/converge-event';
import type { StateStore } from '../../functions/core/engine/ports';
import type { CanonicalEvent } from '../../functions/core/events/canonical-event';
import { compilePolicy } from '../../functions/core/policy/policy';
import type { EffectivePolicy } from '../../functions/core/policy/policy-file';
import type { Sandbox } from '../../sandbox';
import { engineFor, event } from '../support/engine-harness';
import { useSandbox } from '../support/sandbox';

/*
 * The worker's side of the policy, against the sandbox over HTTP: what only the worker can know (roles the
 * mapping derives, the other accounts of a person) fails the event for good before any TrueFoundry write.
 * The policies here are built directly, as a bundle or a start-up made before a change would have them:
 * synth and start-up refuse a mapping above the ceiling, and this is the check behind that one.
 */

const sandboxOf = useSandbox();

const POLICY: EffectivePolicy = {
  file: 'policy.json',
  allowedRoles: { tenant: ['tenant-member', 'tenant-viewer'], workspace: ['workspace-viewer'] },
  explicitRoles: ['token', 'batch'],
  protectedAccounts: ['admin@example.com', 'svc-*@example.com'],
};
const strict = (): Partial<ConvergenceConfig> => ({ policy: compilePolicy(POLICY) });

/** The engine with its events accepted first, as ingest would, sharing one store across configurations. */
function pipeline(sandbox: Sandbox, store: StateStore, config: Partial<ConvergenceConfig>) {
  const engine = engineFor(sandbox, { config, store });
  return async (e: CanonicalEvent) => {
    const sequence = await store.events.reserveSequences(1);
    await store.events.accept(e, { source: 'token', at: e.occurredAt, sequence });
    return engine.run(e);
  };
}

const writesOf = (sandbox: Sandbox) => sandbox.calls().filter((c) => c.method !== 'GET');
const userOf = (sandbox: Sandbox, email: string) => sandbox.users().find((u) => u.email === email);

describe('the role ceiling at the worker', () => {
  it('a role the mapping derives above the ceiling fails the event, naming role and rule, with no call', async () => {
    const sandbox = sandboxOf();
    const store = createMemoryStateStore();
    // The harness mapping makes ML Platform heads tenant-admin; the policy allows no such role.
    const lead = event('hire', 'lead@example.com', {
      employee: { department: 'ML Platform', title: 'Head of ML' },
    });
    const outcome = await pipeline(sandbox, store, strict())(lead);

    expect(outcome.status).toBe('failed');
    const reason = outcome.status === 'failed' ? outcome.reason : '';
    expect(reason).toContain('role tenant-admin, derived by the role mapping (rule rules[0])');
    expect(reason).toContain(
      'tenant-admin is not an allowed tenant role (allowed: tenant-member, tenant-viewer',
    );
    expect(reason).toContain('no TrueFoundry write was made');
    expect(sandbox.calls()).toEqual([]);
    expect(await store.events.get(lead.id)).toMatchObject({ status: 'failed', error: reason });
  });

  it('an explicit role above the ceiling (queued before the policy changed) fails the same way', async () => {
    const sandbox = sandboxOf();
    const outcome = await pipeline(
      sandbox,
      createMemoryStateStore(),
      strict(),
    )(event('hire', 'eve@example.com', { roles: ['tenant-admin'] }));
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('role tenant-admin, carried by the event'),
    });
    expect(sandbox.calls()).toEqual([]);
  });

  it('roles within the ceiling converge as before (the control case)', async () => {
    const sandbox = sandboxOf();
    const outcome = await pipeline(
      sandbox,
      createMemoryStateStore(),
      strict(),
    )(
      event('hire', 'snacks@example.com', {
        employee: { department: 'Facilities', title: 'Head of Snacks' },
      }),
    );
    expect(outcome.status).toBe('succeeded');
    expect(userOf(sandbox, 'snacks@example.com')).toMatchObject({ active: true, roles: ['tenant-member'] });
  });
});

describe('protected accounts at the worker', () => {
  it('an offboard of a protected account fails for good and deactivates nothing', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'admin@example.com', roles: ['tenant-admin'] });
    const offboard = event('offboard', 'admin@example.com');
    const outcome = await pipeline(sandbox, createMemoryStateStore(), strict())(offboard);

    expect(outcome).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining(
        'admin@example.com is a protected account (protectedAccounts: admin@example.com): the pipeline never changes, deactivates or deletes it',
      ),
    });
    expect(writesOf(sandbox)).toEqual([]);
    expect(userOf(sandbox, 'admin@example.com')).toMatchObject({ active: true, roles: ['tenant-admin'] });
  });

  it('an email change whose old account is protected fails before the new account is made', async () => {
    const sandbox = sandboxOf();
    const store = createMemoryStateStore();
    // Linked while nothing protected it; the policy came later.
    const hire = event('hire', 'svc-build@example.com', {
      roles: ['tenant-member'],
      employee: { id: 'E-SVC' },
    });
    expect(await pipeline(sandbox, store, {})(hire)).toMatchObject({ status: 'succeeded' });
    const before = writesOf(sandbox).length;

    const change = event('role_change', 'build-bot@example.com', {
      roles: ['tenant-member'],
      employee: { id: 'E-SVC' },
    });
    const outcome = await pipeline(sandbox, store, strict())(change);

    expect(outcome).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining(
        'svc-build@example.com is a protected account (protectedAccounts: svc-*@example.com): the pipeline never changes, deactivates or deletes it (another account of the same person, which this event would deactivate)',
      ),
    });
    expect(writesOf(sandbox)).toHaveLength(before);
    expect(userOf(sandbox, 'svc-build@example.com')).toMatchObject({ active: true });
    expect(userOf(sandbox, 'build-bot@example.com')).toBeUndefined();
    expect((await store.events.get(change.id))?.steps).toEqual([]);
  });

  it('an offboard under a new email still finds the protected account the person holds', async () => {
    const sandbox = sandboxOf();
    const store = createMemoryStateStore();
    await pipeline(
      sandbox,
      store,
      {},
    )(event('hire', 'svc-ci@example.com', { roles: ['tenant-member'], employee: { id: 'E-CI' } }));
    const before = writesOf(sandbox).length;
    const offboard = event('offboard', 'ci-bot@example.com', { employee: { id: 'E-CI' } });
    expect(await pipeline(sandbox, store, strict())(offboard)).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('svc-ci@example.com is a protected account'),
    });
    expect(writesOf(sandbox)).toHaveLength(before);
    expect(userOf(sandbox, 'svc-ci@example.com')).toMatchObject({ active: true });
  });
});
