import { setTimeout as sleep } from 'node:timers/promises';

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
export class RateLimiter {
  readonly requestsPerSecond: number;
  private readonly intervalMs: number;
  private readonly burstToleranceMs: number;
  private readonly now: () => number;
  /** Theoretical time the next request may go out at a steady pace. */
  private nextSlotAt = Number.NEGATIVE_INFINITY;
  private pausedUntil = Number.NEGATIVE_INFINITY;

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

  /** Resolves when the caller may send; slots are handed out in call order. */
  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const now = this.now();
    const slot = Math.max(this.nextSlotAt, now - this.burstToleranceMs, this.pausedUntil);
    this.nextSlotAt = slot + this.intervalMs;
    const waitMs = slot - now;
    if (waitMs > 0) await sleep(waitMs, undefined, signal ? { signal } : undefined);
  }

  /** Holds every caller back until `ms` from now, e.g. for a 429's Retry-After. */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }
}
