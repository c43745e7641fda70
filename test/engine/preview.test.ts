import { describe, expect, it } from 'vitest';
import type { ConvergenceConfig } from '../../functions/core/engine/converge-event';
import { previewEvents, summarise } from '../../functions/core/engine/preview';
import { compilePolicy } from '../../functions/core/policy/policy';
import {
  CredentialedUsersApiProvider,
  type CredentialsSource,
} from '../../functions/core/truefoundry/credentials';
import { TrueFoundryServerError } from '../../functions/core/truefoundry/errors';
import type { Sandbox } from '../../sandbox';
import { engineFor, event, testConfig } from '../support/engine-harness';
import { useSandbox } from '../support/sandbox';

/*
 * The preview against the sandbox over HTTP: the worker's planner on TrueFoundry's current state, one list
 * read per email, and never a write, whatever the plan.
 */

const sandboxOf = useSandbox();

function trueFoundryOf(
  sandbox: Sandbox,
  config: Partial<ConvergenceConfig> = {},
  credentials?: CredentialsSource,
) {
  return {
    api: new CredentialedUsersApiProvider(
      credentials ?? (async () => ({ baseUrl: sandbox.url, apiKey: sandbox.apiKey })),
      { timeoutMs: 2_000, retry: { baseDelayMs: 1, maxAttempts: 2 } },
    ),
    config: testConfig(config),
  };
}

const methodsOf = (sandbox: Sandbox) => sandbox.calls().map((c) => c.method);

describe('previewEvents', () => {
  it('plans each event with the step names of the real plan and only reads TrueFoundry', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'grace@example.com', roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'linus@example.com', roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'ken@example.com', roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'old@example.com', active: false, roles: ['tenant-member'] });
    const events = [
      event('hire', 'ada@example.com', {
        id: 'h1',
        roles: ['tenant-member'],
        resourceRoles: [{ resourceType: 'workspace', roles: ['workspace-editor'] }],
      }),
      event('role_change', 'grace@example.com', { id: 'r1', roles: ['tenant-admin'] }),
      event('offboard', 'linus@example.com', { id: 'o1' }),
      event('hire', 'ken@example.com', { id: 'n1', roles: ['tenant-member'] }),
      event('hire', 'old@example.com', { id: 'a1', roles: ['tenant-admin'] }),
      event('offboard', 'nobody@example.com', { id: 'o2' }),
    ];
    const previews = await previewEvents(events, trueFoundryOf(sandbox));
    expect(previews).toEqual([
      {
        plan: {
          id: 'h1',
          email: 'ada@example.com',
          actions: ['register', 'set-roles:tenant', 'set-roles:workspace'],
        },
      },
      { plan: { id: 'r1', email: 'grace@example.com', actions: ['set-roles:tenant'] } },
      { plan: { id: 'o1', email: 'linus@example.com', actions: ['deactivate'] } },
      {
        plan: { id: 'n1', email: 'ken@example.com', actions: [], note: 'already in the wanted state' },
      },
      { plan: { id: 'a1', email: 'old@example.com', actions: ['activate', 'set-roles:tenant'] } },
      {
        plan: {
          id: 'o2',
          email: 'nobody@example.com',
          actions: [],
          note: 'not in TrueFoundry: nothing to offboard',
        },
      },
    ]);
    expect(summarise(previews.flatMap((p) => ('plan' in p ? [p.plan] : [])))).toEqual({
      create: 1,
      activate: 1,
      'set-roles': 4,
      deactivate: 1,
      delete: 0,
      'no-op': 2,
    });
    expect(methodsOf(sandbox)).toEqual(Array(6).fill('GET'));
    expect(sandbox.users().find((u) => u.email === 'ada@example.com')).toBeUndefined();
    expect(sandbox.users().find((u) => u.email === 'linus@example.com')?.active).toBe(true);
  });

  it('plans what the worker then does: the same steps, in the same order', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'grace@example.com', active: false, roles: ['tenant-member'] });
    const hire = event('hire', 'grace@example.com', { roles: ['tenant-admin'] });
    const [preview] = await previewEvents([hire], trueFoundryOf(sandbox));
    sandbox.reset();
    sandbox.seedUser({ email: 'grace@example.com', active: false, roles: ['tenant-member'] });
    const engine = engineFor(sandbox);
    await engine.store.events.accept(hire, { source: 'token', at: hire.occurredAt, sequence: 1 });
    await engine.run(hire);
    const record = await engine.store.events.get(hire.id);
    expect(preview).toEqual({
      plan: { id: hire.id, email: 'grace@example.com', actions: ['activate', 'set-roles:tenant'] },
    });
    expect(record?.steps.map((s) => s.action)).toEqual(['activate', 'set-roles']);
  });

  it('plans a delete after the deactivation when offboards delete, and invite in invite mode', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'linus@example.com', roles: ['tenant-member'] });
    const previews = await previewEvents(
      [event('offboard', 'linus@example.com', { id: 'o1' }), event('hire', 'ada@example.com', { id: 'h1' })],
      trueFoundryOf(sandbox, {
        deleteAfterOffboard: true,
        provisionMode: 'invite',
        acceptInviteUrl: 'https://app.example.com/accept',
      }),
    );
    expect(previews.map((p) => ('plan' in p ? p.plan.actions : p))).toEqual([
      ['deactivate', 'delete'],
      ['invite', 'set-roles:tenant'],
    ]);
    expect(methodsOf(sandbox)).toEqual(['GET', 'GET']);
    expect(sandbox.emailsSent()).toEqual([]);
  });

  it('reads each email once, however many events name it', async () => {
    const sandbox = sandboxOf();
    await previewEvents(
      [
        event('hire', 'ada@example.com', { id: 'a', roles: ['tenant-member'] }),
        event('role_change', 'ADA@example.com', { id: 'b', roles: ['tenant-admin'] }),
      ],
      trueFoundryOf(sandbox),
    );
    expect(methodsOf(sandbox)).toEqual(['GET']);
  });

  it("lists what the worker's policy would refuse, with its reason, and reads nothing for it", async () => {
    const sandbox = sandboxOf();
    const policy = compilePolicy({
      file: 'policy.json',
      allowedRoles: { tenant: ['tenant-member'] },
      explicitRoles: ['token', 'batch'],
      protectedAccounts: ['admin@example.com'],
    });
    // The mapping derives tenant-admin for a head of ML Platform: above this ceiling.
    const head = event('hire', 'ada@example.com', {
      id: 'h1',
      employee: { department: 'ML Platform', title: 'Head of ML' },
    });
    const [preview] = await previewEvents([head], trueFoundryOf(sandbox, { policy }));
    expect(preview).toEqual({
      id: 'h1',
      refused: expect.stringMatching(/^refused by policy: role tenant-admin/),
    });
    expect(sandbox.calls()).toEqual([]);
  });

  it('fails as a whole, writing nothing, when TrueFoundry cannot be read', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ serverErrorRate: 1 });
    await expect(
      previewEvents([event('hire', 'ada@example.com', { id: 'h1' })], trueFoundryOf(sandbox)),
    ).rejects.toBeInstanceOf(TrueFoundryServerError);
    expect(new Set(methodsOf(sandbox))).toEqual(new Set(['GET']));
  });

  it('re-reads the credentials once after a 401, as the worker does', async () => {
    const sandbox = sandboxOf();
    const reads: boolean[] = [];
    const credentials: CredentialsSource = async ({ fresh }) => {
      reads.push(fresh);
      return { baseUrl: sandbox.url, apiKey: fresh ? sandbox.apiKey : 'stale-key' };
    };
    const previews = await previewEvents(
      [event('hire', 'ada@example.com', { id: 'h1', roles: ['tenant-member'] })],
      trueFoundryOf(sandbox, {}, credentials),
    );
    expect(previews).toEqual([
      { plan: { id: 'h1', email: 'ada@example.com', actions: ['register', 'set-roles:tenant'] } },
    ]);
    expect(reads).toEqual([false, true]);
    expect(sandbox.calls().map((c) => `${c.method} ${c.status}`)).toEqual(['GET 401', 'GET 200']);
  });
});
