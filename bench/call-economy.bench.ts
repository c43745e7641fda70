/**
 * Call economy (issue 14): 1,000 new hires in one batch through `npm start` against the TrueFoundry sandbox,
 * counting the calls the sandbox logs by method and path. One exact-email read per hire made it 3.00 calls a
 * hire (read, create, roles); with many events waiting the engine reads the directory in pages of up to 1,000
 * users instead (functions/core/engine/directory-pages.ts), so the target is ≤ 2.1 calls a hire. Then every
 * completed event is delivered again (the runtime stopped, each message put back on its SQLite queue, the
 * runtime restarted on the same data directory): a replay of completed events must cost 0 calls.
 *
 * BENCH_SCALE scales the batch (bench/scale.ts). It measures and does not gate.
 */
import { join } from 'node:path';
import { SqliteEventQueue } from '../functions/core/adapters/sqlite/sqlite-event-queue';
import type { CanonicalEvent } from '../functions/core/events/canonical-event';
import { messageOf } from '../functions/core/queue/event-queue';
import { USERS_PATH } from '../functions/core/truefoundry/api-contract';
import { openLocalDatabase } from '../local/database';
import { type CallRecord, type Sandbox, startSandbox } from '../sandbox';
import { newDataDir, removeDataDir, startRuntimeProcess } from '../test/support/runtime-process';
import type { BenchModule, BenchResult, Figure } from './figure';
import { listEvents, postEvents, statusCounts, waitUntilDrained } from './local-drain';
import { runWhenMain } from './run-alone';
import { scaled } from './scale';

const HIRES = scaled(1_000, 10);
/** The tenant's rate and latency, as the pipeline bench has them. */
const RATE = 100;
const LATENCY_MS = 40;
const WORKER_CONCURRENCY = 16;
const TARGET_CALLS_PER_HIRE = 2.1;
/** Before directory pages: an exact-email read, a create and a roles update per new hire. */
const CALLS_PER_HIRE_BEFORE = 3;
const DRAIN_DEADLINE_MS = 10 * 60_000;

/** The users list: a page read has no `query`; an event's exact-email read names its email in `query`. */
const isList = (c: CallRecord) => c.method === 'GET' && c.path === `/${USERS_PATH}`;
const isPageRead = (c: CallRecord) => isList(c) && c.query.query === undefined;
const isEmailRead = (c: CallRecord) => isList(c) && c.query.query !== undefined;

function hires(count: number): CanonicalEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `economy-${i}`,
    type: 'hire',
    occurredAt: '2026-11-29T09:00:00Z',
    employee: { id: `EC${i}`, email: `economy${i}@example.com`, name: `Economy ${i}` },
    roles: [i % 2 === 0 ? 'tenant-member' : 'tenant-admin'],
  }));
}

/** Calls by `METHOD path`, the sandbox's own names, with any status but 200. */
function byMethodAndPath(calls: CallRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of calls) {
    const kind = isPageRead(c) ? 'GET users (page)' : isEmailRead(c) ? 'GET users (by email)' : '';
    const key = `${kind || `${c.method} ${c.path.replace(`/${USERS_PATH}`, 'users')}`}${c.status === 200 ? '' : ` → ${c.status}`}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

type Drained = { calls: CallRecord[]; statuses: Record<string, number>; drainMs: number; completed: boolean };

async function drainBatch(sandbox: Sandbox, dataDir: string, events: CanonicalEvent[]): Promise<Drained> {
  const runtime = await startRuntimeProcess(
    {
      TFY_BASE_URL: sandbox.url,
      TFY_API_KEY: sandbox.apiKey,
      TFY_RATE_LIMIT_RPS: String(RATE),
      WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
    },
    dataDir,
  );
  try {
    const started = performance.now();
    await postEvents(runtime, events);
    const completed = await waitUntilDrained(runtime, {
      pollMs: 100,
      deadlineAt: started + DRAIN_DEADLINE_MS,
    });
    const drainMs = performance.now() - started;
    return { calls: sandbox.calls(), statuses: statusCounts(await listEvents(runtime)), drainMs, completed };
  } finally {
    await runtime.stop();
  }
}

/**
 * Every event delivered once more, as SQS would after a lost delete: with the runtime stopped, each message
 * goes back on the queue under a new deduplication id (the queue drops a repeated one for five minutes), then
 * the runtime starts on the same data directory and its workers take them. Answers the calls they made.
 */
async function replayAll(sandbox: Sandbox, dataDir: string, events: CanonicalEvent[]): Promise<Drained> {
  const db = openLocalDatabase(join(dataDir, 'pipeline.db'));
  try {
    const queue = new SqliteEventQueue(db, { visibilityTimeoutMs: 30_000, maxReceiveCount: 5 });
    await queue.send(events.map((event) => ({ ...messageOf(event), deduplicationId: `${event.id}#replay` })));
    // Not dropped as duplicates: otherwise the replay would cost nothing for want of deliveries.
    const { queued } = queue.depth();
    queue.close();
    if (queued !== events.length)
      throw new Error(`${queued} of ${events.length} events went back on the queue`);
  } finally {
    db.close();
  }
  sandbox.clearCalls();
  const runtime = await startRuntimeProcess(
    { TFY_BASE_URL: sandbox.url, TFY_API_KEY: sandbox.apiKey, TFY_RATE_LIMIT_RPS: String(RATE) },
    dataDir,
  );
  try {
    const started = performance.now();
    const completed = await waitUntilDrained(runtime, {
      pollMs: 100,
      deadlineAt: started + DRAIN_DEADLINE_MS,
    });
    return {
      calls: sandbox.calls(),
      statuses: statusCounts(await listEvents(runtime)),
      drainMs: performance.now() - started,
      completed,
    };
  } finally {
    await runtime.stop();
  }
}

export function figuresOf(hireCount: number, batch: Drained, replay: Drained): BenchResult {
  const calls = batch.calls.length;
  const callsPerHire = calls / hireCount;
  const pages = batch.calls.filter(isPageRead).length;
  const emailReads = batch.calls.filter(isEmailRead).length;
  const readsPerHire = (pages + emailReads) / hireCount;
  const succeeded = batch.statuses.succeeded ?? 0;
  const converged = batch.completed && succeeded === hireCount;
  const conflicts = batch.calls.filter((c) => c.status === 409).length;
  const throttled = batch.calls.filter((c) => c.status === 429).length;
  const round = (n: number) => Number(n.toFixed(3));
  const figures: Figure[] = [
    {
      id: 'economy.calls-per-hire',
      label: `TrueFoundry calls per new hire (${hireCount} in one batch)`,
      measured: round(callsPerHire),
      unit: 'calls',
      reference: { label: 'one read per event', value: CALLS_PER_HIRE_BEFORE, unit: 'calls' },
      target: { text: `≤ ${TARGET_CALLS_PER_HIRE}`, met: converged && callsPerHire <= TARGET_CALLS_PER_HIRE },
      ...(converged
        ? callsPerHire > TARGET_CALLS_PER_HIRE
          ? {
              reason: `${emailReads} exact-email reads and ${pages} page reads for ${hireCount} hires; ${conflicts} creates answered 409 (a page missed the user) and ${throttled} calls 429`,
            }
          : {}
        : { reason: `only ${succeeded} of ${hireCount} hires succeeded: ${JSON.stringify(batch.statuses)}` }),
      details: {
        calls,
        drainSeconds: round(batch.drainMs / 1000),
        ...byMethodAndPath(batch.calls),
      },
    },
    {
      id: 'economy.reads-per-hire',
      label: 'Reads per new hire (directory pages and exact-email reads)',
      measured: round(readsPerHire),
      unit: 'reads',
      reference: { label: 'one read per event', value: 1, unit: 'reads' },
      details: { pageReads: pages, emailReads, conflicts, throttled },
    },
    {
      id: 'economy.replay-calls',
      label: `Calls to replay all ${hireCount} completed events`,
      measured: replay.calls.length,
      unit: 'calls',
      target: {
        text: '= 0',
        met: replay.completed && replay.calls.length === 0 && (replay.statuses.succeeded ?? 0) === hireCount,
      },
      ...(replay.completed
        ? replay.calls.length > 0
          ? { reason: `the replay made ${JSON.stringify(byMethodAndPath(replay.calls))}` }
          : {}
        : { reason: 'the replayed messages did not drain before the deadline' }),
      details: { statusesAfter: JSON.stringify(replay.statuses), drainSeconds: round(replay.drainMs / 1000) },
    },
  ];
  return { figures };
}

export const callEconomyBench: BenchModule = {
  name: 'call-economy',
  async run() {
    const sandbox = await startSandbox({ faults: { latencyMs: LATENCY_MS, rateLimit: { rps: RATE } } });
    const dataDir = newDataDir();
    try {
      const events = hires(HIRES);
      const batch = await drainBatch(sandbox, dataDir, events);
      const replay = await replayAll(sandbox, dataDir, events);
      return figuresOf(HIRES, batch, replay);
    } finally {
      removeDataDir(dataDir);
      await sandbox.close();
    }
  },
};
export default callEconomyBench;

runWhenMain(import.meta.url, callEconomyBench);
