import { type HeldEntry, inAcceptanceOrder, REJECTED_REASON } from '../engine/offboard-guard';
import { type EventRecord, type Log, type StateStore, silentLog } from '../engine/ports';
import { personKeyOf } from '../events/identity';
import { type EventQueue, messageOf } from '../queue/event-queue';

/*
 * The operator's side of the offboarding guard (engine/offboard-guard.ts): list the held events, release
 * them (they go back to the queue, in order per person, and the guard admits them without counting), or
 * reject them (they end `failed`, with no call). Served by GET /holds, POST /holds/release and
 * POST /holds/reject (ingest/routes/holds.ts), and through them by `hr-provisioning holds`.
 */

export type HoldsDeps = { store: StateStore; queue: EventQueue; now?: () => number; log?: Log };

/** What an operator sees of a held event: enough to decide, no more personal data than GET /events shows. */
export type HeldEventView = {
  id: string;
  type: EventRecord['type'];
  person: string;
  email: string;
  occurredAt: string;
  sequence: number;
  heldAt: string;
  reason: string;
};

/** Which events a release is for. */
export type HoldSelection = { all: true } | { ids: string[] };

export type ReleaseReport = {
  /** Back in the queue, in the order they were released (per person, in acceptance order). */
  released: string[];
  /** Not an event, or not held (any more). */
  notHeld: string[];
  /** Not released: an earlier held event of the same person was not released with it; it would overtake it. */
  blocked: { id: string; behind: string }[];
  /** Could not be enqueued again: still held, to release again. */
  failed: { id: string; reason: string }[];
};

export type RejectReport = { rejected: string[]; notHeld: string[] };

/** What the ingest app is wired with to serve the holds routes (ingest/routes/holds.ts). */
export type HoldsOperations = {
  list: () => Promise<HeldEventView[]>;
  release: (selection: HoldSelection) => Promise<ReleaseReport>;
  reject: (ids: string[]) => Promise<RejectReport>;
};

/** The operations on one runtime's store and queue. */
export function holdsOperations(deps: HoldsDeps): HoldsOperations {
  return {
    list: () => listHolds(deps),
    release: (selection) => releaseHolds(selection, deps),
    reject: (ids) => rejectHolds(ids, deps),
  };
}

/** Listing pages: the held events are few (a guard's overflow), but the list stops somewhere. */
const PAGE = 500;
const MAX_LISTED = 10_000;

const viewOf = (record: EventRecord): HeldEventView => ({
  id: record.eventId,
  type: record.type,
  person: record.employeeKey,
  email: record.event.employee.email,
  occurredAt: record.occurredAt,
  sequence: record.sequence ?? 0,
  heldAt: record.updatedAt,
  reason: record.error ?? 'held',
});

/** Every held event, in acceptance order. */
export async function listHolds(deps: HoldsDeps): Promise<HeldEventView[]> {
  return (await heldRecords(deps)).map(viewOf);
}

async function heldRecords(deps: HoldsDeps): Promise<EventRecord[]> {
  const records: EventRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.events.list({ status: 'held', limit: PAGE, ...(cursor ? { cursor } : {}) });
    records.push(...page.records);
    cursor = page.cursor;
  } while (cursor !== undefined && records.length < MAX_LISTED);
  return records.sort((a, b) => inAcceptanceOrder(entryOf(a), entryOf(b)));
}

const entryOf = (record: EventRecord): HeldEntry => ({
  eventId: record.eventId,
  sequence: record.sequence ?? 0,
});

/** The records of `ids` that are held, and the ids that are not. */
async function select(ids: readonly string[], deps: HoldsDeps) {
  const held: EventRecord[] = [];
  const notHeld: string[] = [];
  for (const id of new Set(ids)) {
    const record = await deps.store.events.get(id);
    if (record?.status === 'held') held.push(record);
    else notHeld.push(id);
  }
  return { held, notHeld };
}

/**
 * Releases held events: per person, in acceptance order, each is marked released (so the guard admits it
 * without counting), set `queued` and enqueued again in the person's message group under a fresh
 * deduplication id; then its hold is cleared. Cleared last, so that an event of the person arriving
 * meanwhile waits behind it rather than overtaking it. Releasing by id never lets an event overtake an
 * earlier held event of its person: such ids come back as `blocked`.
 */
export async function releaseHolds(selection: HoldSelection, deps: HoldsDeps): Promise<ReleaseReport> {
  const guard = deps.store.guard;
  const report: ReleaseReport = { released: [], notHeld: [], blocked: [], failed: [] };
  if (!guard) return { ...report, notHeld: 'ids' in selection ? selection.ids : [] };
  const { held, notHeld } =
    'ids' in selection ? await select(selection.ids, deps) : { held: await heldRecords(deps), notHeld: [] };
  report.notHeld = notHeld;
  const chosen = new Set(held.map((r) => r.eventId));
  const byPerson = new Map<string, EventRecord[]>();
  for (const record of held) {
    const key = personKeyOf(record.event.employee);
    byPerson.set(key, [...(byPerson.get(key) ?? []), record]);
  }
  const at = () => new Date((deps.now ?? Date.now)()).toISOString();
  for (const [personKey, records] of byPerson) {
    records.sort((a, b) => inAcceptanceOrder(entryOf(a), entryOf(b)));
    const earlier = await stillHeld(await guard.holdsOf(personKey), chosen, deps);
    // Once one of a person's events stays back (behind an earlier hold, or not enqueued), the later ones do.
    let behind: string | undefined;
    for (const record of records) {
      behind ??= earlier.find((e) => e.sequence < (record.sequence ?? 0))?.eventId;
      if (behind !== undefined) {
        report.blocked.push({ id: record.eventId, behind });
        continue;
      }
      const outcome = await releaseOne(record, personKey, deps, at);
      if (outcome === 'released') {
        report.released.push(record.eventId);
      } else {
        report.failed.push({ id: record.eventId, reason: outcome.reason });
        behind = record.eventId;
      }
    }
  }
  return report;
}

/** The person's holds that are held still and not among those being released. */
async function stillHeld(holds: HeldEntry[], chosen: Set<string>, deps: HoldsDeps): Promise<HeldEntry[]> {
  const result: HeldEntry[] = [];
  for (const hold of holds) {
    if (chosen.has(hold.eventId)) continue;
    if ((await deps.store.events.get(hold.eventId))?.status === 'held') result.push(hold);
  }
  return result;
}

async function releaseOne(
  record: EventRecord,
  personKey: string,
  deps: HoldsDeps,
  at: () => string,
): Promise<'released' | { reason: string }> {
  const guard = deps.store.guard;
  if (!guard) return { reason: 'no offboarding guard' };
  const { events } = deps.store;
  await guard.decide(record.eventId, 'released', at());
  // Queued before it is sent: a delivery that comes at once must find it so, never have it set back after.
  await events.requeue(record.eventId, {
    at: at(),
    error: 'released by an operator; waiting for its delivery',
  });
  try {
    // A fresh deduplication id per delivery (the queue dropped the event's own id long ago, or would).
    await deps.queue.send([
      { ...messageOf(record.event), deduplicationId: `${record.eventId}#release-${record.attempts}` },
    ]);
  } catch (error) {
    const reason = `could not enqueue it again: ${error instanceof Error ? error.message : String(error)}`;
    await events.hold(record.eventId, { at: at(), reason: `${reason}; release it again` });
    (deps.log ?? silentLog).error('releasing a held event failed', { eventId: record.eventId, reason });
    return { reason };
  }
  await guard.unhold(personKey, record.eventId);
  (deps.log ?? silentLog).info('held event released', { eventId: record.eventId });
  return 'released';
}

/**
 * Rejects held events: each ends `failed` with the reason "rejected by an operator", with no call. The
 * person's later held events stay held until they are released or rejected in turn.
 */
export async function rejectHolds(ids: readonly string[], deps: HoldsDeps): Promise<RejectReport> {
  const guard = deps.store.guard;
  if (!guard) return { rejected: [], notHeld: [...ids] };
  const { held, notHeld } = await select(ids, deps);
  const at = () => new Date((deps.now ?? Date.now)()).toISOString();
  const rejected: string[] = [];
  for (const record of held.sort((a, b) => inAcceptanceOrder(entryOf(a), entryOf(b)))) {
    // The decision first: a redelivery of the event's old message reads it and fails the event again.
    await guard.decide(record.eventId, 'rejected', at());
    await deps.store.events.finish(record.eventId, { status: 'failed', at: at(), error: REJECTED_REASON });
    await guard.unhold(personKeyOf(record.event.employee), record.eventId);
    (deps.log ?? silentLog).warn('held event rejected by an operator', { eventId: record.eventId });
    rejected.push(record.eventId);
  }
  return { rejected, notHeld };
}
