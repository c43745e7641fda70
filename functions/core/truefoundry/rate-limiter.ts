import { setTimeout as sleep } from 'node:timers/promises';

/** What the client needs of a limiter: a turn to send, and a pause for everyone after a 429. */
export interface Pacer {
  acquire(signal?: AbortSignal): Promise<void>;
  pauseFor(ms: number): void;
}

export type RateLimiterOptions = {
  /** Requests per second allowed on average. */
  requestsPerSecond: number;
  /** How many requests may leave back to back after a quiet spell. Default 1: strict pacing. */
  burst?: number;
  now?: () => number;
};

/**
 * Paces requests to a steady rate so a batch of thousands does not hammer TrueFoundry into 429s.
 * Written by hand (a generic cell-rate algorithm in a few lines) because the limiter must also obey a
 * server's Retry-After for every caller at once, which the small rate-limit packages do not offer.
 */
/** The longest a Retry-After pauses the limiter. */
export const MAX_PAUSE_MS = 60_000;

export class RateLimiter implements Pacer {
  readonly requestsPerSecond: number;
  private readonly intervalMs: number;
  private readonly burstToleranceMs: number;
  private readonly now: () => number;
  /** Theoretical time the next request may go out at a steady pace. */
  private nextSlotAt = Number.NEGATIVE_INFINITY;
  private pausedUntil = Number.NEGATIVE_INFINITY;
  /** The callers waiting for a slot, as a promise chain. */
  private queue: Promise<void> = Promise.resolve();

  constructor(options: RateLimiterOptions) {
    if (!Number.isFinite(options.requestsPerSecond) || options.requestsPerSecond <= 0) {
      throw new RangeError(`requestsPerSecond must be a positive number, got ${options.requestsPerSecond}`);
    }
    const burst = options.burst ?? 1;
    if (!Number.isInteger(burst) || burst < 1) {
      throw new RangeError(`burst must be a whole number of at least 1, got ${burst}`);
    }
    this.requestsPerSecond = options.requestsPerSecond;
    this.intervalMs = 1000 / options.requestsPerSecond;
    this.burstToleranceMs = (burst - 1) * this.intervalMs;
    this.now = options.now ?? (() => performance.now());
  }

  /** Resolves when the caller may send; callers go in call order. */
  acquire(signal?: AbortSignal): Promise<void> {
    // One caller at a time works out its slot from the clock as it is when its turn comes: after an
    // event-loop stall the waiting callers then leave at most `burst` at once instead of all together.
    const turn = this.queue.then(() => this.waitForSlot(signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async waitForSlot(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    const now = this.now();
    const slot = Math.max(this.nextSlotAt, now - this.burstToleranceMs, this.pausedUntil);
    if (slot > now) await sleep(slot - now, undefined, signal ? { signal } : undefined);
    this.nextSlotAt = slot + this.intervalMs;
  }

  /**
   * Holds every caller back until `ms` from now, e.g. for a 429's Retry-After; at most a minute, so that one
   * absurd header cannot stall every caller of the process for hours.
   */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + Math.min(ms, MAX_PAUSE_MS));
  }
}
