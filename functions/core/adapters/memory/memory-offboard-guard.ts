import {
  type Admissions,
  admitInWindow,
  type GuardLimit,
  type HeldEntry,
  type HoldDecision,
  holdKeyOf,
  inAcceptanceOrder,
  type OffboardGuard,
} from '../../engine/offboard-guard';

/** OffboardGuard in Maps: for unit tests. Each method is one synchronous stretch, so admit is atomic. */
export class MemoryOffboardGuard implements OffboardGuard {
  private admissions: Admissions = {};
  private readonly holds = new Map<string, Map<string, number>>();
  private readonly decisions = new Map<string, HoldDecision>();

  async admit(eventId: string, nowMs: number, limit: GuardLimit) {
    const verdict = admitInWindow(this.admissions, eventId, nowMs, limit);
    if (verdict.next) this.admissions = verdict.next;
    return verdict.admitted;
  }

  async hold(personKey: string, entry: HeldEntry) {
    const key = holdKeyOf(personKey);
    const held = this.holds.get(key) ?? new Map<string, number>();
    held.set(entry.eventId, entry.sequence);
    this.holds.set(key, held);
  }

  async holdsOf(personKey: string) {
    const held = this.holds.get(holdKeyOf(personKey)) ?? new Map<string, number>();
    return [...held].map(([eventId, sequence]) => ({ eventId, sequence })).sort(inAcceptanceOrder);
  }

  async unhold(personKey: string, eventId: string) {
    const key = holdKeyOf(personKey);
    this.holds.get(key)?.delete(eventId);
    if (this.holds.get(key)?.size === 0) this.holds.delete(key);
  }

  async decide(eventId: string, decision: HoldDecision) {
    this.decisions.set(eventId, decision);
  }

  async decisionOf(eventId: string) {
    return this.decisions.get(eventId);
  }

  /** The event ids admitted within the window ending at `nowMs`: for tests. */
  admitted(nowMs: number, windowMs: number): string[] {
    return Object.entries(this.admissions)
      .filter(([, at]) => at > nowMs - windowMs)
      .map(([id]) => id);
  }
}
