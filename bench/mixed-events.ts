import type { CanonicalEvent } from '../functions/core/events/canonical-event';
import type { CallRecord, Sandbox } from '../sandbox';

/*
 * A mixed workload for the throughput and memory benches: new hires, role changes and offboards, interleaved
 * as HR sends them. The role changes and offboards are of people who already have a TrueFoundry account (seeded
 * into the sandbox before the run), so each TrueFoundry call belongs to exactly one event, and one event type,
 * by its email: that is how calls per event type are counted.
 */

export type EventType = CanonicalEvent['type'];
export const EVENT_TYPES: EventType[] = ['hire', 'role_change', 'offboard'];

export type Mix = { hires: number; roleChanges: number; offboards: number };

export type MixedWorkload = {
  events: CanonicalEvent[];
  /** The accounts the role changes and offboards are about, to seed into the sandbox first. */
  existing: { email: string; roles: string[] }[];
  typeOfEmail: Map<string, EventType>;
  counts: Record<EventType, number>;
};

/** An hour ago: `occurredAt` may not lie in the future. */
const occurredAt = () => new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function mixedWorkload(mix: Mix, prefix = 'mix'): MixedWorkload {
  const at = occurredAt();
  const typeOfEmail = new Map<string, EventType>();
  const existing: MixedWorkload['existing'] = [];
  const byType: Record<EventType, CanonicalEvent[]> = { hire: [], role_change: [], offboard: [] };
  for (let i = 0; i < mix.hires; i++) {
    const email = `${prefix}-hire${i}@example.com`;
    typeOfEmail.set(email, 'hire');
    byType.hire.push({
      id: `${prefix}-hire-${i}`,
      type: 'hire',
      occurredAt: at,
      employee: { id: `${prefix}-H${i}`, email, name: `Hire ${i}` },
      roles: [i % 2 === 0 ? 'tenant-member' : 'tenant-admin'],
    });
  }
  for (let i = 0; i < mix.roleChanges; i++) {
    const email = `${prefix}-staff${i}@example.com`;
    typeOfEmail.set(email, 'role_change');
    existing.push({ email, roles: ['tenant-member'] });
    byType.role_change.push({
      id: `${prefix}-role-${i}`,
      type: 'role_change',
      occurredAt: at,
      employee: { id: `${prefix}-S${i}`, email, name: `Staff ${i}` },
      roles: ['tenant-admin'],
    });
  }
  for (let i = 0; i < mix.offboards; i++) {
    const email = `${prefix}-leaver${i}@example.com`;
    typeOfEmail.set(email, 'offboard');
    existing.push({ email, roles: ['tenant-member'] });
    byType.offboard.push({
      id: `${prefix}-offboard-${i}`,
      type: 'offboard',
      occurredAt: at,
      employee: { id: `${prefix}-L${i}`, email, name: `Leaver ${i}` },
    });
  }
  return {
    events: interleave(byType),
    existing,
    typeOfEmail,
    counts: { hire: mix.hires, role_change: mix.roleChanges, offboard: mix.offboards },
  };
}

/** Merges the lists so that each type is spread evenly over the whole run (4:1:1 gives h h h h r o …). */
function interleave(byType: Record<EventType, CanonicalEvent[]>): CanonicalEvent[] {
  const total = EVENT_TYPES.reduce((n, type) => n + byType[type].length, 0);
  const taken: Record<EventType, number> = { hire: 0, role_change: 0, offboard: 0 };
  const out: CanonicalEvent[] = [];
  while (out.length < total) {
    // The type furthest behind its share; ties go in EVENT_TYPES order.
    let next: EventType | undefined;
    let lowest = Number.POSITIVE_INFINITY;
    for (const type of EVENT_TYPES) {
      const size = byType[type].length;
      if (taken[type] >= size) continue;
      const progress = (taken[type] + 1) / size;
      if (progress < lowest) {
        lowest = progress;
        next = type;
      }
    }
    if (next === undefined) break;
    const event = byType[next][taken[next]];
    taken[next] += 1;
    if (event) out.push(event);
  }
  return out;
}

export function seedExisting(sandbox: Sandbox, workload: MixedWorkload): void {
  for (const user of workload.existing) sandbox.seedUser(user);
}

/** The email a TrueFoundry call is about: the list query's, or the body's. */
function emailOf(call: CallRecord): string | undefined {
  const fromQuery = call.query.query;
  if (fromQuery) return fromQuery.toLowerCase();
  const body = call.body as { email?: unknown } | undefined;
  return typeof body?.email === 'string' ? body.email.toLowerCase() : undefined;
}

/** Calls per event type (those about no event's email under `other`), counting only calls that `include` accepts. */
export function callsByType(
  calls: CallRecord[],
  typeOfEmail: Map<string, EventType>,
  include: (call: CallRecord) => boolean,
): Record<EventType | 'other', number> {
  const counts: Record<EventType | 'other', number> = { hire: 0, role_change: 0, offboard: 0, other: 0 };
  for (const call of calls) {
    if (!include(call)) continue;
    const email = emailOf(call);
    const type = email === undefined ? undefined : typeOfEmail.get(email);
    counts[type ?? 'other'] += 1;
  }
  return counts;
}
