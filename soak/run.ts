import type { CanonicalEvent } from '../functions/core/events/canonical-event';
import { type CallRecord, type Sandbox, type SandboxUser, type SentEmail, startSandbox } from '../sandbox';
import { PeopleOracle } from '../test/engine/people-oracle';
import { type CrashMoment, CrashScheduler } from './crashes';
import { startEmulateTarget } from './emulate-target';
import { type LoadPlan, type LoadStats, planLoad } from './load';
import {
  type DeadLetter,
  deadLettersByApi,
  deadLettersByCli,
  type EventView,
  waitForTerminal,
} from './observe';
import {
  accountHistory,
  checkDeadLetters,
  checkDirectory,
  checkOnce,
  checkSecrets,
  checkStatuses,
  uniqueEvents,
  type Violation,
} from './oracle-check';
import { Random } from './random';
import { newSoakSecrets, type SoakSecrets, secretNeedles } from './secrets';
import { type SendCounters, Sender } from './send';
import type { SoakSettings } from './settings';
import { type SoakTarget, startLocalTarget } from './target';

/** What the sandbox saw, counted from its call log. */
export type CallCounts = {
  total: number;
  serverErrors: number;
  dropped: number;
  rateLimited: number;
  created: number;
  invitations: number;
};

export type SoakResult = {
  settings: SoakSettings;
  load: LoadStats;
  crashes: CrashMoment[];
  calls: CallCounts;
  sends: SendCounters;
  /** Distinct events by their final status. */
  statuses: Record<string, number>;
  /** Distinct events by the deliveries that ran them: how close the faults brought them to MAX_ATTEMPTS. */
  attempts: Record<string, number>;
  deadLetters: number;
  /** What the secret scan read: the runtime's output, and everything together. */
  scannedBytes: { output: number; total: number };
  violations: Violation[];
  durations: { startMs: number; ingestMs: number; drainMs: number; checkMs: number; totalMs: number };
};

export type SoakLog = (line: string) => void;

function countCalls(calls: readonly CallRecord[], invitations: number): CallCounts {
  const count = (test: (call: CallRecord) => boolean) => calls.filter(test).length;
  return {
    total: calls.length,
    // The sandbox answers 500, 502 or 503 only when the fault injector says so (a handler bug would also
    // be a 500, and count here: it is worth seeing either way).
    serverErrors: count((c) => typeof c.status === 'number' && c.status >= 500),
    dropped: count((c) => c.status === 'dropped'),
    rateLimited: count((c) => c.status === 429),
    created: count((c) => c.effect === 'created'),
    invitations,
  };
}

/** How many accounts TrueFoundry ends with if all goes well: the scale of the crash moments. */
function expectedAccounts(plan: LoadPlan): number {
  const oracle = new PeopleOracle();
  for (const [index, event] of uniqueEvents(plan).entries()) oracle.apply({ event, sequence: index + 1 });
  return [...oracle.accounts().values()].filter((account) => account.exists).length;
}

function startTarget(settings: SoakSettings, sandbox: Sandbox, secrets: ReturnType<typeof newSoakSecrets>) {
  return settings.target === 'emulate'
    ? startEmulateTarget(settings, sandbox, secrets)
    : startLocalTarget(settings, sandbox, secrets);
}

/** Everything a run leaves to check. */
type Observed = {
  plan: LoadPlan;
  events: CanonicalEvent[];
  views: ReadonlyMap<string, EventView>;
  calls: CallRecord[];
  emails: SentEmail[];
  users: SandboxUser[];
  byCli: DeadLetter[] | string;
  byApi: DeadLetter[] | undefined;
  output: string;
  secrets: SoakSecrets;
  sender: Sender;
  crashes: CrashScheduler;
  settings: SoakSettings;
};

/** Every pass criterion over what the run left (oracle-check.ts), and how much text the secret scan read. */
function judge(o: Observed): { violations: Violation[]; scannedBytes: SoakResult['scannedBytes'] } {
  const statusCheck = checkStatuses(o.events, o.views);
  const scanned = [
    { where: 'the runtime output (every process, across restarts)', text: o.output },
    { where: 'the sandbox call log', text: JSON.stringify(o.calls) },
    { where: 'the sandbox e-mails', text: JSON.stringify(o.emails) },
    { where: 'the event records', text: JSON.stringify([...o.views.values()]) },
    { where: 'the dead letters', text: JSON.stringify([o.byCli, o.byApi]) },
  ];
  const violations: Violation[] = [
    ...o.sender.problems.map((p) => ({ kind: 'ingest', detail: `request ${p.request}: ${p.message}` })),
    ...o.crashes.failures.map((detail) => ({ kind: 'crash', detail })),
    ...statusCheck.violations,
    ...checkDirectory(statusCheck.oracle, o.users, accountHistory(o.events, o.views)),
    ...checkOnce(o.calls, o.emails),
    ...checkDeadLetters(o.views, o.byCli, o.byApi, o.plan.expectedConflicts, o.events),
    ...checkSecrets(secretNeedles(o.secrets), scanned),
  ];
  if (o.crashes.done.length < o.settings.crashes)
    violations.push({
      kind: 'crash',
      detail: `${o.crashes.done.length} of ${o.settings.crashes} crashes happened`,
    });
  return {
    violations,
    scannedBytes: {
      output: o.output.length,
      total: scanned.reduce((sum, { text }) => sum + text.length, 0),
    },
  };
}

/**
 * One soak: the planned load through the runtime's HTTP API (and the CLI) against a faulty TrueFoundry
 * sandbox, crashes at seeded moments, then every check. Never throws for what it finds: violations are in
 * the result; it throws only when it cannot run at all (the runtime does not start).
 */
export async function runSoak(settings: SoakSettings, log: SoakLog = () => {}): Promise<SoakResult> {
  const began = performance.now();
  const random = new Random(settings.seed);
  const plan = planLoad(settings, random.fork('load'));
  const secrets = newSoakSecrets();
  const { faults } = settings;
  const sandbox = await startSandbox({
    apiKey: secrets.tfyApiKey,
    seed: settings.seed,
    faults: {
      serverErrorRate: faults.serverErrorRate,
      dropRate: faults.dropRate,
      visibilityDelayMs: faults.visibilityDelayMs,
      latencyMs: faults.latencyMs,
      rateLimit: { rps: faults.rateLimitRps, burst: faults.rateLimitBurst, retryAfterSeconds: 1 },
    },
  });
  let target: SoakTarget | undefined;
  let sender: Sender | undefined;
  try {
    log(`soak seed ${settings.seed} (SOAK_SEED=${settings.seed} replays it), target ${settings.target}`);
    target = await startTarget(settings, sandbox, secrets);
    const startMs = performance.now() - began;
    const crashes = new CrashScheduler(
      target,
      sandbox,
      random.fork('crashes'),
      settings.crashes,
      expectedAccounts(plan),
    );
    sender = new Sender(target, secrets);
    const events = uniqueEvents(plan);
    const mainIds = [...new Set(plan.main.flatMap((chunk) => chunk.events.map((e) => e.id)))];

    const ingestStarted = performance.now();
    crashes.start();
    await sender.sendAll(plan.main);
    const ingestMs = performance.now() - ingestStarted;
    log(
      `sent ${plan.main.length} requests in ${(ingestMs / 1000).toFixed(1)} s; waiting for every event to end`,
    );
    await waitForTerminal(target, mainIds, settings.drainTimeoutMs);
    await crashes.finish();
    await sender.sendAll(plan.final);
    const views = await waitForTerminal(
      target,
      events.map((e) => e.id),
      settings.drainTimeoutMs,
    );
    const drainMs = performance.now() - ingestStarted - ingestMs;
    log(`drained in ${(drainMs / 1000).toFixed(1)} s after ${crashes.done.length} crash(es); checking`);

    const checkStarted = performance.now();
    const byCli = await deadLettersByCli(target);
    const byApi = await deadLettersByApi(target);
    await target.stop();
    const output = target.output();
    target = undefined;
    const { violations, scannedBytes } = judge({
      plan,
      events,
      views,
      calls: sandbox.calls(),
      emails: sandbox.emailsSent(),
      users: sandbox.users(),
      byCli,
      byApi,
      output,
      secrets,
      sender,
      crashes,
      settings,
    });

    const statuses: Record<string, number> = {};
    const attempts: Record<string, number> = {};
    for (const view of views.values()) {
      statuses[view.status] = (statuses[view.status] ?? 0) + 1;
      const tried = String(view.attempts ?? 0);
      attempts[tried] = (attempts[tried] ?? 0) + 1;
    }
    const checkMs = performance.now() - checkStarted;
    return {
      settings,
      load: plan.stats,
      crashes: crashes.done,
      calls: countCalls(sandbox.calls(), sandbox.emailsSent().length),
      sends: sender.counters,
      statuses,
      attempts,
      deadLetters: typeof byCli === 'string' ? 0 : byCli.length,
      scannedBytes,
      violations,
      durations: { startMs, ingestMs, drainMs, checkMs, totalMs: performance.now() - began },
    };
  } finally {
    sender?.close();
    await target?.stop().catch(() => undefined);
    await sandbox.close();
  }
}
