import { type EventStore, type Log, silentLog } from '../engine/ports';
import { EnqueueError, type EventQueue, messageOf } from '../queue/event-queue';

/*
 * Effective dates: an event effective later waits in the store as `scheduled` (accept-events.ts), out of
 * the queue, because no queue here can hold it that long: SQS delays stop at 15 minutes and FIFO queues
 * have no per-message delay at all. A sweep releases what is due into the queue: locally every quarter of
 * a second (local/scheduler.ts), on AWS every minute (EventBridge → the worker, functions/worker.ts).
 *
 * Why a time index in the state store swept every minute, rather than one EventBridge Scheduler schedule per
 * event: the schedule then lives next to the status it changes, so a cancel and a release are both one
 * conditional write on the same item and exactly one of them wins, with no second system to keep in step
 * (no schedule left behind by a crash, none to delete on cancel, no PassRole or schedule quota); one Query a
 * minute costs ~44,000 reads a month whatever the backlog; it holds as long as the table does; and the same
 * code runs on SQLite locally. The price is up to a minute of lateness on AWS, which an HR start date or last
 * day does not notice.
 */

export type ReleaseDeps = { store: { events: EventStore }; queue: EventQueue; now?: () => number; log?: Log };

export type ScheduleSweepReport = { released: number; failed: number };

/** Due events per round; a sweep runs rounds until fewer come back (or it has run MAX_ROUNDS). */
const ROUND = 100;
const MAX_ROUNDS = 50;

/**
 * Queues every scheduled event due now, earliest first (then acceptance, so a person's events due at one
 * instant keep their order in the person's message group), then marks each released. Sent first, marked
 * after: a crash in between sends it again on the next sweep, and the worker's ledger makes that second
 * delivery a replay with no call; marked first, a crash would leave it `queued` with no message. A cancel
 * that wins the race after the send makes the delivery a no-op (the record is `cancelled`, which is final).
 * What the queue refuses stays scheduled for the next sweep, and so do the person's later events.
 */
export async function releaseDueEvents(deps: ReleaseDeps): Promise<ScheduleSweepReport> {
  const log = deps.log ?? silentLog;
  const iso = () => new Date((deps.now ?? Date.now)()).toISOString();
  const report: ScheduleSweepReport = { released: 0, failed: 0 };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const due = await deps.store.events.dueEvents({ now: iso(), limit: ROUND });
    if (due.length === 0) break;
    let refused = new Set<string>();
    try {
      await deps.queue.send(due.map((record) => messageOf(record.event)));
    } catch (error) {
      if (!(error instanceof EnqueueError)) throw error;
      refused = new Set(error.failedEventIds);
      log.warn('scheduled events not queued yet; the next sweep tries again', {
        events: refused.size,
        reason: error.message,
      });
    }
    const sent = due.filter((record) => !refused.has(record.eventId));
    for (const record of sent) {
      if (await deps.store.events.release(record.eventId, iso())) {
        report.released += 1;
        log.info('scheduled event released', { eventId: record.eventId, dueAt: record.dueAt });
      }
    }
    report.failed += refused.size;
    // A refusal would come back first in the next round: leave it to the next sweep.
    if (refused.size > 0 || due.length < ROUND) break;
  }
  return report;
}
