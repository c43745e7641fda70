import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStateStore } from '../../functions/core/adapters/dynamodb';
import { createMemoryStateStore } from '../../functions/core/adapters/memory';
import type { ConvergenceDeps } from '../../functions/core/engine/converge-event';
import { handleEventMessage } from '../../functions/core/engine/handle-event-message';
import type { StateStore } from '../../functions/core/engine/ports';
import type { CanonicalEvent } from '../../functions/core/events/canonical-event';
import { CredentialedUsersApiProvider } from '../../functions/core/truefoundry/credentials';
import type { Sandbox } from '../../sandbox';
import { Crash, CrashSwitch, crashingApi, crashingStore } from '../support/crash-switch';
import { startDynalite } from '../support/dynalite';
import { event, testConfig } from '../support/engine-harness';
import { useSandbox } from '../support/sandbox';

const sandboxOf = useSandbox();

// ann@x.com is a substring of joann@x.com: the free-text lookup trap is in every run.
const EMAILS = ['ann@x.com', 'joann@x.com', 'grace@example.com'];
const ROLES = ['tenant-admin', 'tenant-member', 'tenant-viewer'];
const LEASE_MS = 60_000;

type Spec = { employee: number; type: CanonicalEvent['type']; minute: number; roles: string[] };
type Arrival = { spec: number; redeliverAfter: boolean };

const specArb = fc.record({
  employee: fc.nat({ max: EMAILS.length - 1 }),
  type: fc.constantFrom<CanonicalEvent['type']>('hire', 'hire', 'role_change', 'offboard'),
  // A small range so that equal timestamps happen too.
  minute: fc.nat({ max: 30 }),
  roles: fc.subarray(ROLES, { minLength: 1 }),
});

const scenarioArb = fc.array(specArb, { minLength: 1, maxLength: 10 }).chain((specs) =>
  fc.record({
    specs: fc.constant(specs),
    // Arrival order: a shuffle with duplicates (the same event sent twice by the HR system).
    arrivals: fc.array(fc.record({ spec: fc.nat({ max: specs.length - 1 }), redeliverAfter: fc.boolean() }), {
      minLength: specs.length,
      maxLength: specs.length * 2,
    }),
    mode: fc.constantFrom<'register' | 'invite'>('register', 'invite'),
    faults: fc.record({
      serverErrorRate: fc.constantFrom(0, 0.1, 0.25),
      dropRate: fc.constantFrom(0, 0.05),
      visibilityDelayMs: fc.constantFrom(0, 0, 25),
      seed: fc.nat(),
    }),
    // Per delivery: crash at the n-th port call, before or after its effect (0 = no crash).
    crashes: fc.array(fc.record({ at: fc.nat({ max: 14 }), effectFirst: fc.boolean() }), { maxLength: 40 }),
  }),
);

type ModelUser = { exists: boolean; active: boolean; roles: string[] };

/**
 * The oracle: one employee's events applied in order, each only if not older than the last applied. Once
 * offboarded, a person comes back only with a hire: a role change neither reactivates nor creates them.
 */
function expectedState(events: CanonicalEvent[]): ModelUser {
  let state: ModelUser = { exists: false, active: false, roles: [] };
  let newest = '';
  let offboarded = false;
  for (const e of events) {
    if (e.occurredAt < newest) continue;
    newest = e.occurredAt;
    const roles = e.roles ?? [];
    if (e.type === 'offboard') {
      offboarded = true;
      if (state.exists) state = { ...state, active: false };
      continue;
    }
    if (e.type === 'role_change' && offboarded) continue;
    offboarded = false;
    if (!state.exists) {
      state = { exists: true, active: true, roles };
    } else if (state.active || e.type === 'hire') {
      state = { exists: true, active: true, roles };
    }
  }
  return state;
}

async function runScenario(sandbox: Sandbox, scenario: Scenario, newStore: () => Promise<StateStore>) {
  sandbox.reset();
  sandbox.setFaults({
    serverErrorRate: scenario.faults.serverErrorRate,
    dropRate: scenario.faults.dropRate,
    visibilityDelayMs: scenario.faults.visibilityDelayMs,
  });
  let clock = Date.UTC(2026, 10, 29);
  const crash = new CrashSwitch();
  const store = await newStore();
  const deps: ConvergenceDeps & { maxAttempts: number } = {
    store: crashingStore(store, crash),
    api: crashingApi(
      new CredentialedUsersApiProvider(async () => ({ baseUrl: sandbox.url, apiKey: sandbox.apiKey }), {
        timeoutMs: 2_000,
        retry: { baseDelayMs: 1, maxAttempts: 3 },
      }),
      crash,
    ),
    config: testConfig({
      provisionMode: scenario.mode,
      acceptInviteUrl: 'https://app.example.com/accept',
      leaseMs: LEASE_MS,
      notVisibleRetryMs: 30,
    }),
    now: () => clock,
    maxAttempts: 1_000,
  };

  const events = scenario.specs.map((spec, i) =>
    event(spec.type, EMAILS[spec.employee] ?? '', {
      id: `evt-${i}`,
      at: new Date(Date.UTC(2026, 10, 1, 9, spec.minute)).toISOString(),
      roles: spec.type === 'offboard' ? undefined : spec.roles,
    }),
  );
  // Ingest: the first arrival of an id is accepted; a repeat is answered from the store, not enqueued.
  const accepted = new Set<string>();
  const groups = new Map<string, { event: CanonicalEvent; redeliverAfter: boolean }[]>();
  for (const arrival of scenario.arrivals as Arrival[]) {
    const e = events[arrival.spec];
    if (!e || accepted.has(e.id)) continue;
    accepted.add(e.id);
    const sequence = await store.events.reserveSequences(1);
    await store.events.accept(e, { source: 'test', at: new Date(clock).toISOString(), sequence });
    const group = groups.get(e.employee.email) ?? [];
    group.push({ event: e, redeliverAfter: arrival.redeliverAfter });
    groups.set(e.employee.email, group);
  }

  let crashIndex = 0;
  // Deliveries run one at a time so each crash hits the delivery it was armed for; groups interleave.
  const queues = [...groups.values()].map((group) => [...group]);
  let turn = 0;
  while (queues.some((q) => q.length > 0)) {
    const queue = queues[turn++ % queues.length];
    const head = queue?.[0];
    if (!queue || !head) continue;
    const planned = scenario.crashes[crashIndex++];
    crash.arm(planned && planned.at > 0 ? planned.at : undefined, planned?.effectFirst ?? false);
    const receiveCount = (head as { receives?: number }).receives ?? 1;
    try {
      const verdict = await handleEventMessage(
        { messageId: head.event.id, body: JSON.stringify(head.event), receiveCount },
        deps,
      );
      if (verdict.action === 'retry') {
        if (verdict.delayMs <= 100) await new Promise((resolve) => setTimeout(resolve, verdict.delayMs));
        clock += verdict.delayMs;
        Object.assign(head, { receives: receiveCount + 1 });
        continue;
      }
      expect(verdict.action, JSON.stringify(verdict)).toBe('delete');
      queue.shift();
      if (head.redeliverAfter) {
        // At-least-once delivery: the same message again must make no TrueFoundry call.
        crash.arm(undefined, false);
        const before = sandbox.calls().length;
        await handleEventMessage(
          { messageId: head.event.id, body: JSON.stringify(head.event), receiveCount: 1 },
          deps,
        );
        expect(sandbox.calls().length).toBe(before);
      }
    } catch (error) {
      if (!(error instanceof Crash)) throw error;
      // The process died: the message comes back after its visibility timeout, leases have run out.
      clock += LEASE_MS + 1;
      Object.assign(head, { receives: receiveCount + 1 });
    }
  }

  sandbox.setFaults({});
  for (const [index, email] of EMAILS.entries()) {
    const arrivedInOrder = [...(groups.get(email) ?? [])].map((g) => g.event);
    const expected = expectedState(arrivedInOrder);
    const user = sandbox.users().find((u) => u.email === email);
    const context = `${email} (employee ${index}) after ${arrivedInOrder.map((e) => `${e.id}:${e.type}@${e.occurredAt.slice(11, 16)}`).join(', ')}`;
    expect(user !== undefined, context).toBe(expected.exists);
    if (user) {
      expect(user.active, context).toBe(expected.active);
      expect([...(user.roles ?? [])].sort(), context).toEqual([...expected.roles].sort());
    }
    const creates = sandbox
      .calls()
      .filter((c) => c.effect === 'created' && JSON.stringify(c.body).includes(`"${email}"`));
    expect(creates.length, `${email} created more than once`).toBeLessThanOrEqual(1);
    expect(
      sandbox.emailsSent().filter((m) => m.to === email).length,
      `${email} invited twice`,
    ).toBeLessThanOrEqual(1);
  }
  for (const id of accepted) {
    const record = await store.events.get(id);
    expect(['succeeded', 'superseded'], `${id} ended ${record?.status}: ${record?.error}`).toContain(
      record?.status,
    );
  }
}

type Scenario = {
  specs: Spec[];
  arrivals: Arrival[];
  mode: 'register' | 'invite';
  faults: { serverErrorRate: number; dropRate: number; visibilityDelayMs: number; seed: number };
  crashes: { at: number; effectFirst: boolean }[];
};

// Enough cases that a planted bug fails every run: a hire that no longer reactivates a leaver shows in about
// one case in 80, so the 60 cases there were missed it two runs in five; 500 miss it under one run in 500.
// The memory store keeps them cheap (some 15 s); the DynamoDB run proves the adapter, it is not the hunt.
const RUNS = Number(process.env.PROPERTY_RUNS ?? 500);
const SEED = Number(process.env.PROPERTY_SEED ?? Date.now() % 2 ** 31);

describe('convergence under duplicates, reordering, transient faults and crashes', () => {
  console.info(`convergence property seed: ${SEED} (PROPERTY_SEED=${SEED} replays it)`);

  it('always ends in the state the newest events imply, creates nobody twice, and ends every event', async () => {
    const sandbox = sandboxOf();
    await fc.assert(
      fc.asyncProperty(scenarioArb, (scenario) =>
        runScenario(sandbox, scenario as Scenario, async () => createMemoryStateStore()),
      ),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }, 240_000);

  it('holds with the DynamoDB adapter too (dynalite over the real SDK wire protocol)', async () => {
    const sandbox = sandboxOf();
    const dynamo = await startDynalite();
    try {
      await fc.assert(
        fc.asyncProperty(scenarioArb, (scenario) =>
          runScenario(sandbox, scenario as Scenario, async () =>
            createDynamoDbStateStore({ client: dynamo.client, tableName: await dynamo.createTable() }),
          ),
        ),
        { numRuns: Math.max(5, Math.round(RUNS / 25)), seed: SEED + 1, endOnFailure: true },
      );
    } finally {
      await dynamo.close();
    }
  }, 240_000);
});
