import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_PAUSE_MS, type Pacer, RateLimiter } from '../../truefoundry/rate-limiter';
import { StateStoreError, type StateTable } from './state-table';
import type { TableKey } from './table-schema';

export type SharedRateLimiterOptions = {
  /** The tenant's rate, shared by every instance that uses the same bucket. */
  requestsPerSecond: number;
  /** Tokens the bucket holds at most: what may go out back to back after a quiet spell. Default 1 s of rate. */
  burst?: number;
  /** Tokens one instance takes per write: fewer writes, at the cost of a little unfairness. Default 5. */
  leaseSize?: number;
  /** Which bucket: one per TrueFoundry tenant. */
  bucket?: string;
  now?: () => number;
};

/** Conditional writes that may lose to another instance's before a lease is retried after a pause. */
const MAX_TRIES = 5;

export const rateBucketKey = (bucket: string): TableKey => ({ pk: `RATE#${bucket}`, sk: 'BUCKET' });

/**
 * One rate limit for every worker instance, instead of a static share each (rate ÷ maximum concurrency),
 * whose idle instances' shares went unused: a token bucket in the state table, refilled from the clock.
 * An instance leases a few tokens per conditional write and paces them locally at the full rate, so the
 * calls still leave evenly. A 429's Retry-After pauses this instance at once and the others as they
 * lease next (the pause is written to the bucket).
 */
export class SharedRateLimiter implements Pacer {
  private leased = 0;
  private readonly local: RateLimiter;
  private readonly rate: number;
  private readonly burst: number;
  private readonly leaseSize: number;
  private readonly key: TableKey;
  private readonly now: () => number;
  private pauseUntilMs = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly table: StateTable,
    options: SharedRateLimiterOptions,
  ) {
    if (!(options.requestsPerSecond > 0)) throw new RangeError('requestsPerSecond must be positive');
    this.rate = options.requestsPerSecond;
    this.burst = Math.max(1, options.burst ?? Math.ceil(this.rate));
    this.leaseSize = Math.max(1, Math.min(options.leaseSize ?? 5, this.burst));
    this.key = rateBucketKey(options.bucket ?? 'truefoundry');
    this.now = options.now ?? Date.now;
    this.local = new RateLimiter({ requestsPerSecond: this.rate });
  }

  acquire(signal?: AbortSignal): Promise<void> {
    // One caller at a time takes from the lease, so a lease is never spent twice.
    const turn = this.queue.then(() => this.take(signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  pauseFor(ms: number): void {
    this.local.pauseFor(ms);
    this.pauseUntilMs = Math.max(this.pauseUntilMs, this.now() + Math.min(ms, MAX_PAUSE_MS));
  }

  private async take(signal: AbortSignal | undefined): Promise<void> {
    while (this.leased === 0) {
      signal?.throwIfAborted();
      const waitMs = await this.lease();
      if (waitMs > 0) await sleep(waitMs, undefined, signal ? { signal } : undefined);
    }
    this.leased -= 1;
    await this.local.acquire(signal);
  }

  /** Takes up to a lease of tokens from the shared bucket; how long to wait when there were none. */
  private async lease(): Promise<number> {
    for (let tries = 1; tries <= MAX_TRIES; tries++) {
      const nowMs = this.now();
      const item = await this.table.get(this.key);
      const tokensAt = Number(item?.updatedAtMs ?? nowMs);
      const stored = item === undefined ? this.burst : Number(item.tokens);
      const storedPause = Number(item?.pausedUntilMs ?? 0);
      const pausedUntil = Math.max(storedPause, this.pauseUntilMs);
      const available = Math.min(this.burst, stored + ((nowMs - tokensAt) * this.rate) / 1000);
      const paused = pausedUntil > nowMs;
      const take = paused ? 0 : Math.min(this.leaseSize, Math.floor(available));
      // Nothing to take: wait, unless this instance has a pause the others have not heard of yet.
      if (take < 1 && !(paused && pausedUntil > storedPause)) {
        return paused ? pausedUntil - nowMs : Math.ceil(((1 - available) * 1000) / this.rate);
      }
      const version = Number(item?.version ?? 0);
      const written = await this.table.put(
        {
          Item: {
            ...this.key,
            tokens: available - take,
            updatedAtMs: nowMs,
            pausedUntilMs: pausedUntil,
            version: version + 1,
          },
          ConditionExpression: item === undefined ? 'attribute_not_exists(pk)' : '#version = :version',
          ...(item === undefined
            ? {}
            : {
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':version': version },
              }),
        },
        'ignore',
      );
      if (written.written) {
        this.leased += take;
        return paused ? pausedUntil - nowMs : 0;
      }
    }
    throw new StateStoreError('the shared rate bucket kept changing while leasing tokens');
  }
}
