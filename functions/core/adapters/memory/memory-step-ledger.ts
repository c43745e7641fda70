import type { ClaimResult, StepLedger } from '../../engine/ports';

type Entry = { state: 'claimed'; owner: string; leaseUntilMs: number } | { state: 'done'; at: string };

/** StepLedger in a Map: for unit tests and property tests. */
export class MemoryStepLedger implements StepLedger {
  private readonly entries = new Map<string, Entry>();

  async claim(eventId: string, stepKey: string, lease: { owner: string; nowMs: number; leaseMs: number }) {
    const key = `${eventId}\u0000${stepKey}`;
    const entry = this.entries.get(key);
    if (entry?.state === 'done') return { state: 'done' } satisfies ClaimResult;
    if (entry && entry.owner !== lease.owner && entry.leaseUntilMs > lease.nowMs) {
      return { state: 'held', untilMs: entry.leaseUntilMs } satisfies ClaimResult;
    }
    this.entries.set(key, {
      state: 'claimed',
      owner: lease.owner,
      leaseUntilMs: lease.nowMs + lease.leaseMs,
    });
    return { state: 'claimed' } satisfies ClaimResult;
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
}
