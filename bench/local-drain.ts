import type { CanonicalEvent } from '../functions/core/events/canonical-event';
import { api, type RuntimeProcess } from '../test/support/runtime-process';

/*
 * Driving `npm start` (a child process) through its HTTP API for the benches: post a workload, wait until it
 * has drained, then read every event's outcome. Drained is read from GET /healthz (queue depth and busy
 * workers), so that the wait costs the runtime one tiny request per poll, not a page of events.
 */

/** POST /events accepts up to 1 MiB a request; 500 events are ~100 KB. */
const EVENTS_PER_REQUEST = 500;

/** Posts the events in order, in requests of 500; answers how long that took (ms). */
export async function postEvents(runtime: RuntimeProcess, events: CanonicalEvent[]): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < events.length; i += EVENTS_PER_REQUEST) {
    const answer = await api(runtime, 'POST', '/events', { events: events.slice(i, i + EVENTS_PER_REQUEST) });
    if (answer.status !== 202)
      throw new Error(`ingest answered ${answer.status}: ${JSON.stringify(answer.json)}`);
  }
  return performance.now() - started;
}

type Health = { queue?: { queued?: number; inFlight?: number }; workersBusy?: number };

/**
 * Polls until nothing is queued, in flight or being worked on; answers whether it got there before the
 * deadline. Call it after the last POST: before, an empty queue means nothing.
 */
export async function waitUntilDrained(
  runtime: RuntimeProcess,
  options: { pollMs: number; deadlineAt: number; onPoll?: () => void },
): Promise<boolean> {
  while (performance.now() < options.deadlineAt) {
    options.onPoll?.();
    const { status, json } = await api(runtime, 'GET', '/healthz');
    const health = json as Health;
    if (
      status === 200 &&
      health.queue?.queued === 0 &&
      health.queue.inFlight === 0 &&
      health.workersBusy === 0
    ) {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
  return false;
}

export type EventOutcome = {
  id: string;
  status: string;
  type: string;
  receivedAt: string;
  updatedAt: string;
};

/** Every event the runtime knows, a page of 500 at a time. */
export async function listEvents(runtime: RuntimeProcess): Promise<EventOutcome[]> {
  const out: EventOutcome[] = [];
  let cursor: string | undefined;
  do {
    const query = `/events?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { status, json } = await api(runtime, 'GET', query);
    if (status !== 200) throw new Error(`GET /events answered ${status}: ${JSON.stringify(json)}`);
    out.push(...(json.events as EventOutcome[]));
    cursor = typeof json.cursor === 'string' ? json.cursor : undefined;
  } while (cursor);
  return out;
}

/** How many events ended in each status. */
export function statusCounts(events: EventOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) counts[event.status] = (counts[event.status] ?? 0) + 1;
  return counts;
}
