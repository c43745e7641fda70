import type { ClaimResult, Lease, StepLedger } from '../../engine/ports';

type Entry =
  | { state: 'claimed'; owner: string; leaseUntilMs: number; claimedAtMs: number }
  | { state: 'done'; at: string };

/** StepLedger in a Map: for unit tests and property tests. */
export class MemoryStepLedger implements StepLedger {
  private readonly entries = new Map<string, Entry>();

  async claim(eventId: string, stepKey: string, lease: Lease): Promise<ClaimResult> {
    const key = `${eventId}\u0000${stepKey}`;
    const entry = this.entries.get(key);
    if (entry?.state === 'done') return { state: 'done' };
    let claimedAtMs = lease.nowMs;
    if (entry && entry.owner === lease.owner) claimedAtMs = entry.claimedAtMs;
    else if (entry && entry.leaseUntilMs > lease.nowMs) return { state: 'held', untilMs: entry.leaseUntilMs };
    else if (entry && entry.claimedAtMs + (lease.unknownBoundMs ?? 0) > lease.nowMs) {
      const untilMs = entry.claimedAtMs + (lease.unknownBoundMs ?? 0);
      return { state: 'unknown', sinceMs: entry.claimedAtMs, untilMs };
    }
    this.entries.set(key, {
      state: 'claimed',
      owner: lease.owner,
      leaseUntilMs: lease.nowMs + lease.leaseMs,
      claimedAtMs,
    });
    return { state: 'claimed' };
  }

  async complete(eventId: string, stepKey: string, owner: string, at: string) {
    const key = `${eventId}\u0000${stepKey}`;
    const entry = this.entries.get(key);
    if (entry?.state === 'claimed' && entry.owner !== owner)
      throw new Error(`step ${stepKey} is claimed by another owner`);
    this.entries.set(key, { state: 'done', at });
  }

  async release(eventId: string, stepKey: string, owner: string) {
    const key = `${eventId}\u0000${stepKey}`;
    const entry = this.entries.get(key);
    if (entry?.state === 'claimed' && entry.owner === owner) this.entries.delete(key);
  }

  async markUnknown(eventId: string, stepKey: string, owner: string, nowMs: number) {
    const key = `${eventId}\u0000${stepKey}`;
    const entry = this.entries.get(key);
    if (entry?.state === 'claimed' && entry.owner === owner) {
      this.entries.set(key, { ...entry, owner: '', leaseUntilMs: nowMs });
    }
  }

  /** Deletes every step of these events, for StateStore.forget. */
  forgetEvents(eventIds: readonly string[]): number {
    const ids = new Set(eventIds);
    let deleted = 0;
    for (const key of this.entries.keys()) {
      if (ids.has(key.slice(0, key.indexOf('\u0000'))) && this.entries.delete(key)) deleted++;
    }
    return deleted;
  }

  /** What a process restart does to claims: every live lease ends, outcomes unknown (SQLite's releaseAbandonedClaims). */
  lapseAll(nowMs: number) {
    for (const [key, entry] of this.entries) {
      if (entry.state === 'claimed') this.entries.set(key, { ...entry, owner: '', leaseUntilMs: nowMs });
    }
  }
}
