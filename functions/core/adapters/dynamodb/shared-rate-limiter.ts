import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_PAUSE_MS, type Pacer, RateLimiter } from '../../truefoundry/rate-limiter';
import type { StateTable } from './state-table';
import type { TableKey } from './table-schema';

export type SharedRateLimiterOptions = {
  /** The tenant's rate, shared by every instance that uses the same schedule. */
  requestsPerSecond: number;
  /** What may go out back to back after a quiet spell. Default 1 s of rate. */
  burst?: number;
  /** Calls one instance reserves per write: fewer writes, at the cost of a little unfairness. Default 5. */
  leaseSize?: number;
  /** Which schedule: one per TrueFoundry tenant. */
  bucket?: string;
  now?: () => number;
};

export const rateBucketKey = (bucket: string): TableKey => ({ pk: `RATE#${bucket}`, sk: 'BUCKET' });

/**
 * One rate limit for every worker instance, instead of a static share each (rate ÷ maximum concurrency),
 * whose idle instances' shares went unused.
 *
 * The state table holds one number, `tat`: the time the tenant's next call is due at the full rate (the
 * generic cell-rate algorithm). An instance reserves a few calls by pushing `tat` on in one atomic
 * UpdateItem, and learns from the answer when its calls are due; it then paces them locally. Hand-written
 * because no DynamoDB limiter package reserves without a read: an earlier read-then-conditional-put bucket
 * lost most writes to the other instances under load, and its retries cost more than the calls it paced.
 * A 429's Retry-After pushes `tat` past the pause, which holds every instance's next reservation back.
 */
export class SharedRateLimiter implements Pacer {
  private leased = 0;
  private readonly local: RateLimiter;
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private readonly leaseSize: number;
  private readonly key: TableKey;
  private readonly now: () => number;
  /** Whether the schedule was ahead of the clock at the last reservation: try that case first. */
  private busy = true;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly table: StateTable,
    options: SharedRateLimiterOptions,
  ) {
    if (!(options.requestsPerSecond > 0)) throw new RangeError('requestsPerSecond must be positive');
    const burst = Math.max(1, options.burst ?? Math.ceil(options.requestsPerSecond));
    this.intervalMs = 1000 / options.requestsPerSecond;
    this.toleranceMs = (burst - 1) * this.intervalMs;
    this.leaseSize = Math.max(1, Math.min(options.leaseSize ?? 5, burst));
    this.key = rateBucketKey(options.bucket ?? 'truefoundry');
    this.now = options.now ?? Date.now;
    this.local = new RateLimiter({ requestsPerSecond: options.requestsPerSecond });
  }

  acquire(signal?: AbortSignal): Promise<void> {
    // One caller at a time takes from the lease, so a lease is never spent twice.
    const turn = this.queue.then(() => this.take(signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  pauseFor(ms: number): void {
    const pause = Math.min(ms, MAX_PAUSE_MS);
    this.local.pauseFor(pause);
    // Leased calls are dropped: they were due inside the pause. The write is not awaited (a Pacer's pause is
    // synchronous); should it fail, this instance still pauses, and the others learn of 429s themselves.
    this.leased = 0;
    void this.pushScheduleTo(this.now() + pause + this.toleranceMs).catch(() => undefined);
  }

  private async take(signal: AbortSignal | undefined): Promise<void> {
    if (this.leased === 0) {
      signal?.throwIfAborted();
      const firstDueAt = await this.reserve(this.leaseSize);
      const waitMs = firstDueAt - this.toleranceMs - this.now();
      if (waitMs > 0) await sleep(waitMs, undefined, signal ? { signal } : undefined);
      this.leased = this.leaseSize;
    }
    this.leased -= 1;
    await this.local.acquire(signal);
  }

  /** Reserves `count` calls on the shared schedule; answers when the first of them is due. */
  private async reserve(count: number): Promise<number> {
    const span = count * this.intervalMs;
    for (;;) {
      const nowMs = this.now();
      if (this.busy) {
        // The schedule is ahead of the clock: the calls are due where it stands.
        const pushed = await this.table.update(
          {
            Key: this.key,
            UpdateExpression: 'SET #tat = #tat + :span',
            ConditionExpression: '#tat >= :now',
            ExpressionAttributeNames: { '#tat': 'tat' },
            ExpressionAttributeValues: { ':span': span, ':now': nowMs },
            ReturnValues: 'UPDATED_NEW',
          },
          'ignore',
        );
        if (pushed.written) return Number(pushed.attributes?.tat) - span;
        this.busy = false;
      }
      // The schedule lags the clock (a quiet spell) or does not exist yet: the calls are due now.
      const started = await this.table.update(
        {
          Key: this.key,
          UpdateExpression: 'SET #tat = :due',
          ConditionExpression: 'attribute_not_exists(#tat) OR #tat < :now',
          ExpressionAttributeNames: { '#tat': 'tat' },
          ExpressionAttributeValues: { ':due': nowMs + span, ':now': nowMs },
        },
        'ignore',
      );
      if (started.written) return nowMs;
      // Another instance moved the schedule ahead in between: reserve behind it.
      this.busy = true;
    }
  }

  /** Holds every instance's next reservation back until `dueAt` (never pulls the schedule back). */
  private async pushScheduleTo(dueAt: number): Promise<void> {
    await this.table.update(
      {
        Key: this.key,
        UpdateExpression: 'SET #tat = :due',
        ConditionExpression: 'attribute_not_exists(#tat) OR #tat < :due',
        ExpressionAttributeNames: { '#tat': 'tat' },
        ExpressionAttributeValues: { ':due': dueAt },
      },
      'ignore',
    );
    this.busy = true;
  }
}
