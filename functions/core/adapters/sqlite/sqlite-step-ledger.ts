import type Database from 'better-sqlite3';
import type { ClaimResult, Lease, StepLedger } from '../../engine/ports';
import { expiresAtMsFor, type Retention } from '../../privacy/retention';

type StepKey = { eventId: string; stepKey: string };
type LedgerRow = { state: 'claimed' | 'done'; owner: string; leaseUntilMs: number; claimedAtMs: number };
type ClaimParams = StepKey & Required<Lease>;

/**
 * StepLedger on the step_ledger table. A claim is one upsert whose WHERE holds the whole rule (no row, our
 * own claim, or another owner's lapsed lease whose unknown-outcome bound has passed), read back in the same
 * transaction when it loses, so the verdict is judged on exactly the row that beat it. Rows expire after
 * the retention period, by which time no delivery of the event can arrive any more.
 */
export class SqliteStepLedger implements StepLedger {
  private readonly upsertClaim: Database.Statement<[ClaimParams & { untilMs: number; expiresAtMs: number }]>;
  private readonly read: Database.Statement<[StepKey], LedgerRow>;
  private readonly upsertDone: Database.Statement<
    [StepKey & { owner: string; at: string; expiresAtMs: number }]
  >;
  private readonly deleteClaim: Database.Statement<[StepKey & { owner: string }]>;
  private readonly lapseClaim: Database.Statement<[StepKey & { owner: string; nowMs: number }]>;
  private readonly claimStep: Database.Transaction<(params: ClaimParams) => ClaimResult>;

  constructor(
    db: Database.Database,
    private readonly retention: Retention,
  ) {
    // Our own claim keeps its claimed_at_ms; a new or taken-over claim starts its own.
    this.upsertClaim = db.prepare(
      `INSERT INTO step_ledger (event_id, step_key, state, owner, lease_until_ms, expires_at_ms, claimed_at_ms)
        VALUES (@eventId, @stepKey, 'claimed', @owner, @untilMs, @expiresAtMs, @nowMs)
      ON CONFLICT (event_id, step_key) DO UPDATE SET
        owner = excluded.owner, lease_until_ms = excluded.lease_until_ms,
        expires_at_ms = excluded.expires_at_ms,
        claimed_at_ms = CASE WHEN owner = excluded.owner THEN claimed_at_ms ELSE excluded.claimed_at_ms END
      WHERE state = 'claimed' AND (owner = excluded.owner
        OR (lease_until_ms <= @nowMs AND claimed_at_ms + @unknownBoundMs <= @nowMs))`,
    );
    this.read = db.prepare(
      `SELECT state, owner, lease_until_ms AS leaseUntilMs, claimed_at_ms AS claimedAtMs FROM step_ledger
      WHERE event_id = @eventId AND step_key = @stepKey`,
    );
    // Done whatever it was unless another owner holds it; a step done without a claim counts too.
    this.upsertDone = db.prepare(
      `INSERT INTO step_ledger (event_id, step_key, state, owner, lease_until_ms, done_at, expires_at_ms)
        VALUES (@eventId, @stepKey, 'done', @owner, 0, @at, @expiresAtMs)
      ON CONFLICT (event_id, step_key) DO UPDATE SET
        state = 'done', owner = excluded.owner, done_at = excluded.done_at,
        expires_at_ms = excluded.expires_at_ms
      WHERE state <> 'claimed' OR owner = excluded.owner`,
    );
    this.deleteClaim = db.prepare(
      `DELETE FROM step_ledger
      WHERE event_id = @eventId AND step_key = @stepKey AND state = 'claimed' AND owner = @owner`,
    );
    this.lapseClaim = db.prepare(
      `UPDATE step_ledger SET owner = '', lease_until_ms = @nowMs
      WHERE event_id = @eventId AND step_key = @stepKey AND state = 'claimed' AND owner = @owner`,
    );
    this.claimStep = db.transaction((params: ClaimParams): ClaimResult => {
      const claimed = this.upsertClaim.run({
        ...params,
        untilMs: params.nowMs + params.leaseMs,
        expiresAtMs: expiresAtMsFor(this.retention),
      });
      if (claimed.changes === 1) return { state: 'claimed' };
      // Lost: the row is done, another owner's lease still runs, or an unknown outcome's bound has not passed.
      const row = this.read.get(params);
      if (row?.state !== 'claimed') return { state: 'done' };
      if (row.leaseUntilMs > params.nowMs) return { state: 'held', untilMs: row.leaseUntilMs };
      return { state: 'unknown', sinceMs: row.claimedAtMs, untilMs: row.claimedAtMs + params.unknownBoundMs };
    });
  }

  async claim(eventId: string, stepKey: string, lease: Lease): Promise<ClaimResult> {
    return this.claimStep.immediate({ eventId, stepKey, unknownBoundMs: 0, ...lease });
  }

  async complete(eventId: string, stepKey: string, owner: string, at: string) {
    const done = this.upsertDone.run({
      eventId,
      stepKey,
      owner,
      at,
      expiresAtMs: expiresAtMsFor(this.retention),
    });
    if (done.changes === 0) throw new Error(`step ${stepKey} is claimed by another owner`);
  }

  async release(eventId: string, stepKey: string, owner: string) {
    // Nothing deleted means the claim is not ours (or is done): then there is nothing to give back.
    this.deleteClaim.run({ eventId, stepKey, owner });
  }

  async markUnknown(eventId: string, stepKey: string, owner: string, nowMs: number) {
    this.lapseClaim.run({ eventId, stepKey, owner, nowMs });
  }
}

/**
 * Ends the lease of every claim that is not done. Only for a process that is the sole worker of this file
 * and has just started: any live claim then belongs to a process that died mid-step, and waiting out its
 * lease would only delay the redelivered events. The claims stay, as outcomes unknown: a step safe to repeat
 * is claimed again at once, while a create waits for its account to appear (or for its bound), since the
 * process may have died after TrueFoundry acted.
 */
export function releaseAbandonedClaims(db: Database.Database): number {
  return db.prepare("UPDATE step_ledger SET owner = '', lease_until_ms = 0 WHERE state = 'claimed'").run()
    .changes;
}
