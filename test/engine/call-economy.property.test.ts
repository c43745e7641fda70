import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryStateStore } from '../../functions/core/adapters/memory';
import type { ConvergenceDeps } from '../../functions/core/engine/converge-event';
import { DirectoryPages } from '../../functions/core/engine/directory-pages';
import { handleEventMessage } from '../../functions/core/engine/handle-event-message';
import type { StateStore } from '../../functions/core/engine/ports';
import { type CanonicalEvent, parseCanonicalEvent } from '../../functions/core/events/canonical-event';
import { INVITE_PATH, REGISTER_PATH } from '../../functions/core/truefoundry/api-contract';
import { CredentialedUsersApiProvider } from '../../functions/core/truefoundry/credentials';
import type { Sandbox } from '../../sandbox';
import { Crash, CrashSwitch, crashingApi, crashingStore } from '../support/crash-switch';
import { testConfig } from '../support/engine-harness';
import { useSandbox } from '../support/sandbox';
import { type OracleEvent, PeopleOracle } from './people-oracle';

/*
 * Stale directory pages cannot cost correctness (functions/core/engine/directory-pages.ts). Several workers,
 * each a process with its own page cache, converge random interleavings of hires, role changes, offboards,
 * email changes, rehires under a new employee number and borrowed addresses; a worker's page is kept across
 * other workers' and its own writes and refreshed only now and then, so pages are taken before other events'
 * writes all the time. Events of unrelated people run side by side, as a worker pool runs them; crashes hit any
 * port call (page reads included), creates take effect but answer 503 while the list lags, and the dead
 * letters are redriven at the end. After every run: TrueFoundry equals the oracle (people-oracle.ts), no
 * offboarded person has an active account, nobody is created or invited twice, every accepted event is
 * terminal, and a replay of a completed event makes no call at all.
 */

const sandboxOf = useSandbox();

const HUMANS = 3;
const WORKERS = 3;
const ROLES = ['tenant-admin', 'tenant-member', 'tenant-viewer'];
const LEASE_MS = 60_000;
/** A page's age bound on its worker's page clock, which moves only when the scenario refreshes that worker. */
const PAGE_MAX_AGE_MS = 1_000;
const emailOf = (human: number, variant: number) => `h${human}${'ab'[variant]}@x.com`;
const humanOfEmail = (email: string) => Number(email.slice(1, 2));
const humanOfPerson = (personKey: string) => Number(personKey.slice(-1));

type Spec = {
  human: number;
  /** A hire after the human's offboard comes under the human's other employee number: a rehire under a new id. */
  rehired: boolean;
  /** 0 or 1: one of the human's two addresses (an email change); 2: the next human's first address. */
  emailChoice: number;
  /** 0-9: which event comes next in the human's lifecycle (nextType), so that rehires are common. */
  pick: number;
  /** Dated a few minutes before the events generated ahead of it: an old event arriving late, or a tie. */
  late: boolean;
  roles: string[];
};

const specArb: fc.Arbitrary<Spec> = fc.record({
  human: fc.nat({ max: HUMANS - 1 }),
  rehired: fc.boolean(),
  emailChoice: fc.constantFrom(0, 0, 0, 0, 1, 2),
  pick: fc.nat({ max: 9 }),
  late: fc.constantFrom(false, false, false, false, true),
  roles: fc.subarray(ROLES, { minLength: 1 }),
});

const scenarioArb = fc.array(specArb, { minLength: 6, maxLength: 20 }).chain((specs) =>
  fc.record({
    specs: fc.constant(specs),
    // Mostly in the order generated, so that most events apply (a lifecycle per person); sometimes shuffled
    // with repeats, so that old events arrive late and are superseded.
    arrivals: fc.oneof(
      { weight: 3, arbitrary: fc.constant(specs.map((_, i) => i)) },
      {
        weight: 1,
        arbitrary: fc.array(fc.nat({ max: specs.length - 1 }), {
          minLength: specs.length,
          maxLength: specs.length * 2,
        }),
      },
    ),
    /** Per delivery: which worker takes it (offset within its wave). */
    workers: fc.array(fc.nat({ max: WORKERS - 1 }), { minLength: 40, maxLength: 40 }),
    /**
     * Per delivery: whether its worker's page is refreshed first (otherwise it is kept, however stale). Never
     * or rarely: pages miss what was created since; often: pages list users whose state changed since.
     */
    refreshes: fc.constantFrom(0, 8, 3).chain((oneIn) =>
      fc.array(oneIn === 0 ? fc.constant(false) : fc.nat({ max: oneIn - 1 }).map((n) => n === 0), {
        minLength: 40,
        maxLength: 40,
      }),
    ),
    /** Whether every worker reads its page before the first event: an empty directory, stale from then on. */
    pagesFirst: fc.boolean(),
    /** Whether unrelated people's events run side by side. */
    sideBySide: fc.boolean(),
    redeliverAfter: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
    mode: fc.constantFrom<'register' | 'invite'>('register', 'invite'),
    serverErrorRate: fc.constantFrom(0, 0, 0.1),
    dropRate: fc.constantFrom(0, 0.05),
    lostCreateAnswers: fc.nat({ max: 2 }),
    /** TrueFoundry's list lag after a create (a create then answers 409 before the list shows the user). */
    visibilityDelayMs: fc.constantFrom(0, 15),
    // Per delivery: crash at the n-th port call, before or after its effect; one delivery in four or so, so that
    // first deliveries (the only ones pages serve) stay common.
    crashes: fc.array(
      fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        {
          weight: 1,
          arbitrary: fc.record({ at: fc.integer({ min: 1, max: 16 }), effectFirst: fc.boolean() }),
        },
      ),
      { minLength: 40, maxLength: 40 },
    ),
  }),
);

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

/**
 * The human's next event after `previous`: mostly a hire first, an offboard after a hire, and a hire after an
 * offboard. A rehire (a hire of a deactivated account) after a page was taken is where a stale page would bite
 * hardest: a silent register, or a page's `present`, would leave the account deactivated.
 */
function nextType(previous: CanonicalEvent['type'] | undefined, pick: number): CanonicalEvent['type'] {
  if (previous === undefined) return pick < 8 ? 'hire' : pick < 9 ? 'role_change' : 'offboard';
  if (previous === 'offboard') return pick < 7 ? 'hire' : pick < 8 ? 'role_change' : 'offboard';
  return pick < 5 ? 'offboard' : pick < 8 ? 'role_change' : 'hire';
}

function eventsOf(specs: Spec[]): CanonicalEvent[] {
  const lastType = new Map<number, CanonicalEvent['type']>();
  const employeeIds = new Map<number, string>();
  return specs.map((spec, i) => {
    const previous = lastType.get(spec.human);
    const type = nextType(previous, spec.pick);
    lastType.set(spec.human, type);
    let employeeId = employeeIds.get(spec.human) ?? `E${spec.human}`;
    if (type === 'hire' && previous === 'offboard' && spec.rehired)
      employeeId = `${employeeId.startsWith('E') ? 'R' : 'E'}${spec.human}`;
    employeeIds.set(spec.human, employeeId);
    const email =
      spec.emailChoice === 2 ? emailOf((spec.human + 1) % HUMANS, 0) : emailOf(spec.human, spec.emailChoice);
    const parsed = parseCanonicalEvent({
      id: `evt-${i}`,
      type,
      occurredAt: new Date(Date.UTC(2026, 10, 1, 9, Math.max(0, 2 * i - (spec.late ? 5 : 0)))).toISOString(),
      employee: { id: employeeId, email },
      ...(type === 'offboard' ? {} : { roles: spec.roles }),
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    return parsed.event;
  });
}

/**
 * The humans whose accounts or people an event may touch, from the oracle's state before it runs: its own,
 * its address's, the address's owner's, and those of every account its person holds. Events whose sets are
 * disjoint commute, so running them side by side leaves the state the oracle's one-by-one order gives.
 */
function humansTouched(oracle: PeopleOracle, { event }: OracleEvent): Set<number> {
  const personKey = `id:${event.employee.id}`;
  const email = event.employee.email;
  const touched = new Set([humanOfPerson(personKey), humanOfEmail(email)]);
  for (const account of oracle.ownedBy(personKey)) touched.add(humanOfEmail(account));
  for (const owner of oracle.people().keys()) {
    if (oracle.ownedBy(owner).includes(email)) touched.add(humanOfPerson(owner));
  }
  return touched;
}

/** The next events that may run side by side: in queue order, none touching what an earlier pending one does. */
function nextWave(oracle: PeopleOracle, pending: OracleEvent[], sideBySide: boolean): OracleEvent[] {
  if (!sideBySide) return pending.slice(0, 1);
  const wave: OracleEvent[] = [];
  const claimed = new Set<number>();
  for (const message of pending) {
    const touched = humansTouched(oracle, message);
    const free = [...touched].every((h) => !claimed.has(h));
    if (free && wave.length < WORKERS) wave.push(message);
    // Later events must not overtake this one where they meet it, whether it runs now or waits.
    for (const h of touched) claimed.add(h);
  }
  return wave;
}

type Worker = { deps: ConvergenceDeps & { maxAttempts: number }; crash: CrashSwitch; refreshPage(): void };

async function runScenario(sandbox: Sandbox, scenario: Scenario, store: StateStore): Promise<void> {
  sandbox.reset();
  const createPath = `/${scenario.mode === 'invite' ? INVITE_PATH : REGISTER_PATH}`;
  sandbox.setFaults({
    serverErrorRate: scenario.serverErrorRate,
    dropRate: scenario.dropRate,
    visibilityDelayMs: scenario.visibilityDelayMs,
    scripted: Array.from({ length: scenario.lostCreateAnswers }, () => ({
      method: 'POST',
      path: createPath,
      status: 503,
      afterEffect: true,
    })),
  });
  let clock = Date.UTC(2026, 10, 29);
  const provider = new CredentialedUsersApiProvider(
    async () => ({ baseUrl: sandbox.url, apiKey: sandbox.apiKey }),
    { timeoutMs: 2_000, retry: { baseDelayMs: 1, maxAttempts: 3 } },
  );
  const config = testConfig({
    provisionMode: scenario.mode,
    acceptInviteUrl: 'https://app.example.com/accept',
    leaseMs: LEASE_MS,
    notVisibleRetryMs: 30,
  });
  // One process each: its own page cache and its own crashes; the state store and TrueFoundry are shared.
  const workers: Worker[] = Array.from({ length: WORKERS }, () => {
    let pageClock = 0;
    const crash = new CrashSwitch();
    return {
      crash,
      refreshPage: () => {
        pageClock += PAGE_MAX_AGE_MS + 1;
      },
      deps: {
        store: crashingStore(store, crash),
        api: crashingApi(provider, crash),
        config,
        now: () => clock,
        maxAttempts: 1_000,
        directory: new DirectoryPages({ maxAgeMs: PAGE_MAX_AGE_MS, now: () => pageClock }),
        // Always many waiting: every first delivery of a hire or role change may be served by the page.
        backlog: { waiting: () => 100 },
      },
    };
  });

  if (scenario.pagesFirst) {
    const api = await provider.get();
    for (const worker of workers) await worker.deps.directory?.provesAbsent('nobody@x.com', api, 100);
  }

  const events = eventsOf(scenario.specs);
  const oracle = new PeopleOracle();
  const queue: OracleEvent[] = [];
  for (const index of scenario.arrivals) {
    const e = events[index];
    if (!e || queue.some((q) => q.event.id === e.id)) continue;
    const sequence = await store.events.reserveSequences(1);
    await store.events.accept(e, { source: 'test', at: new Date(clock).toISOString(), sequence });
    queue.push({ event: e, sequence });
  }

  let waveIndex = 0;
  let redeliverIndex = 0;
  const deadLetters: OracleEvent[] = [];
  /** Deliveries so far per event: its crashes and refreshes are its own, however the side-by-side runs interleave. */
  const delivered = new Map<string, number>();
  /** Delivers one message on `worker` until the engine reaches a verdict (crashes and retries redeliver it). */
  const deliver = async (message: OracleEvent, worker: Worker): Promise<'delete' | 'dead-letter'> => {
    const { id } = message.event;
    for (let receiveCount = 1; ; receiveCount++) {
      const count = delivered.get(id) ?? 0;
      delivered.set(id, count + 1);
      const index = (Number(id.slice(4)) * 3 + count) % 40;
      const planned = scenario.crashes[index];
      if (scenario.refreshes[index]) worker.refreshPage();
      worker.crash.arm(planned?.at, planned?.effectFirst ?? false);
      try {
        const verdict = await handleEventMessage(
          { messageId: message.event.id, body: JSON.stringify(message.event), receiveCount },
          worker.deps,
        );
        if (verdict.action !== 'retry') return verdict.action;
        // Real time too, as long as the list's lag: that lag is real, the engine's clock is simulated.
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(verdict.delayMs, scenario.visibilityDelayMs)),
        );
        clock += verdict.delayMs;
      } catch (error) {
        if (!(error instanceof Crash)) throw error;
        // The process died: the message comes back after its visibility timeout; leases have run out.
        clock += LEASE_MS + 1;
        await new Promise((resolve) => setTimeout(resolve, scenario.visibilityDelayMs));
      }
    }
  };

  /** Runs a wave side by side, then checks each event against the oracle in queue order. */
  const processWave = async (wave: OracleEvent[]) => {
    const offset = scenario.workers[waveIndex++ % 40] ?? 0;
    const verdicts = await Promise.all(
      wave.map((message, i) => deliver(message, workers[(offset + i) % WORKERS] as Worker)),
    );
    for (const [i, message] of wave.entries()) {
      const expected = oracle.apply(message);
      const record = await store.events.get(message.event.id);
      expect(record?.status, `${message.event.id}: ${record?.error ?? record?.note}`).toBe(expected);
      if (verdicts[i] === 'dead-letter') deadLetters.push(message);
    }
    for (const [i, message] of wave.entries()) {
      if (verdicts[i] !== 'delete' || !scenario.redeliverAfter[redeliverIndex++ % 40]) continue;
      // At-least-once delivery: the same message again, on any worker, must make no TrueFoundry call.
      const worker = workers[redeliverIndex % WORKERS] as Worker;
      worker.crash.arm(undefined, false);
      const before = sandbox.calls().length;
      await handleEventMessage(
        { messageId: message.event.id, body: JSON.stringify(message.event), receiveCount: 1 },
        worker.deps,
      );
      expect(sandbox.calls().length, `${message.event.id} replayed`).toBe(before);
    }
  };

  const pending = [...queue];
  while (pending.length > 0) {
    const wave = nextWave(oracle, pending, scenario.sideBySide);
    for (const message of wave) pending.splice(pending.indexOf(message), 1);
    await processWave(wave);
  }
  // The operator redrives the dead letters once, each once, one at a time.
  const redriven = [...new Map(deadLetters.map((m) => [m.event.id, m])).values()];
  for (const message of redriven) await processWave([message]);

  sandbox.setFaults({});
  const context = queue
    .map(
      (q) =>
        `${q.event.id}:${q.event.type}:${q.event.employee.id}:${q.event.employee.email}@${q.event.occurredAt.slice(14, 16)}#${q.sequence}`,
    )
    .join(', ');
  const users = new Map(sandbox.users().map((u) => [u.email, u]));
  for (const [email, want] of oracle.accounts()) {
    const user = users.get(email);
    expect(user !== undefined, `${email} exists, after ${context}`).toBe(want.exists);
    if (!user) continue;
    expect(user.active, `${email} active, after ${context}`).toBe(want.active);
    if (want.active)
      expect([...(user.roles ?? [])].sort(), `${email} roles, after ${context}`).toEqual(
        [...want.roles].sort(),
      );
  }
  for (const email of users.keys()) expect(oracle.accounts().has(email), `${email} unexpected`).toBe(true);
  for (const [personKey, person] of oracle.people()) {
    if (person.status !== 'offboarded') continue;
    for (const email of oracle.ownedBy(personKey)) {
      expect(
        users.get(email)?.active ?? false,
        `${personKey} offboarded, ${email} active, after ${context}`,
      ).toBe(false);
    }
  }
  const creates = sandbox.calls().filter((c) => c.effect === 'created');
  for (const email of users.keys()) {
    const mine = creates.filter((c) => JSON.stringify(c.body).includes(`"${email}"`));
    expect(mine.length, `${email} created more than once, after ${context}`).toBeLessThanOrEqual(1);
    expect(
      sandbox.emailsSent().filter((m) => m.to === email).length,
      `${email} invited twice`,
    ).toBeLessThanOrEqual(1);
  }
  for (const { event } of queue) {
    const record = await store.events.get(event.id);
    expect(['succeeded', 'superseded', 'failed'], `${event.id} ended ${record?.status}`).toContain(
      record?.status,
    );
  }
}

// Enough cases that a planted bug fails every run. Measured over 20 seeds each: a register that keeps
// skipIfUserExists after a page's absence (a rehire stays deactivated) first failed at case 15 on average, a
// page's `present` trusted as the user at case 17 (at worst 105), an offboard served by a page at case 2. At
// about one case in 17, 250 cases miss such a bug far less than once in a thousand runs. About a minute here.
const RUNS = Number(process.env.PROPERTY_RUNS ?? 250);
const SEED = Number(process.env.PROPERTY_SEED ?? Date.now() % 2 ** 31);

describe('directory pages: stale pages under concurrent workers, crashes, email changes and rehires', () => {
  // The seed is printed so that a failing run can be replayed: PROPERTY_SEED=<seed> npx vitest run <this file>
  console.info(`call-economy property seed: ${SEED} (PROPERTY_SEED=${SEED} replays it)`);

  it('TrueFoundry equals the oracle, no leaver keeps access, nobody is created or invited twice', async () => {
    const sandbox = sandboxOf();
    await fc.assert(
      fc.asyncProperty(scenarioArb, (scenario) => runScenario(sandbox, scenario, createMemoryStateStore())),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }, 300_000);
});
