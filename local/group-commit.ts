import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LocalDatabase } from './database';

/** A request's writes (ingest's acceptEvents), run as one unit inside a group's transaction. */
export type Unit<T> = () => Promise<T>;

/** The failure every unit of a group gets when the group's writes could not be committed or synced. */
export class GroupCommitError extends Error {
  constructor(reason: string, options?: { cause: unknown }) {
    super(`the writes could not be made durable: ${reason}`, options);
    this.name = 'GroupCommitError';
  }
}

export type GroupCommitOptions = {
  /**
   * Microtask turns a group may take before it is judged to wait on I/O, which a unit must never do (see
   * `run`): far more than the largest batch needs (a 5,000-row POST /batch takes a few thousand).
   */
  maxTurns?: number;
};

type Pending = {
  work: Unit<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
};

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A committed group waiting for a sync that makes it durable; `seq` counts commits. */
type Committed = { seq: number; group: Pending[]; outcomes: Outcome[]; publish: (() => void)[] };

/**
 * Syncs of the WAL in flight at once. A sync covers every group committed before it started, so a group
 * committed while one runs starts its own rather than waiting for the running one to end first: on a disk
 * that flushes in parallel (most do), that takes the wait for a running sync off every answer. Four: the
 * size of libuv's thread pool, which they run on.
 */
const MAX_SYNCS_IN_FLIGHT = 4;

/**
 * Group commit for the local runtime's ingest. The units of concurrent requests (each request's record and
 * enqueue writes) that arrive while the event loop is busy run together in one SQLite transaction; one
 * sync of the WAL then makes the whole group durable, and only then does each unit settle: a 202 is
 * answered once its event is on disk. A group whose transaction fails to commit is rolled back whole, and
 * each of its units fails with GroupCommitError (the caller answers 5xx), none of them recorded. A unit that
 * throws is rolled back to its own savepoint: its request fails and leaves nothing, the others go on.
 *
 * Why not `synchronous = FULL`: it syncs inside COMMIT, on the one thread that also parses and validates
 * requests. Here the transaction commits at the connection's NORMAL level (written to the WAL, not synced)
 * and the WAL is synced (fdatasync) on libuv's thread pool, so the next group is validated and written
 * while the disk syncs, and has its own sync started at once. That is the durability FULL gives a WAL
 * database (the WAL synced before a commit is reported), reported per group. The workers' own writes
 * stay NORMAL: they survive a killed process, and cost no sync.
 *
 * The workers share the connection, and their writes never land inside a group's transaction: while a group
 * runs, the event loop is held (see `drain`), so no other callback runs until it has committed.
 */
export class GroupCommit {
  private pending: Pending[] = [];
  private scheduled = false;
  /** The publish callbacks of the group in its transaction now; undefined between groups. */
  private draining: (() => void)[] | undefined;
  /** Committed groups waiting for a sync, in commit order. */
  private readonly unsynced: Committed[] = [];
  private committedSeq = 0;
  /** The last commit a sync was started for. */
  private syncStartedFor = 0;
  private syncsInFlight = 0;
  private walFd: number | undefined;
  private readonly maxTurns: number;
  private readonly statements;

  constructor(
    private readonly db: LocalDatabase,
    options: GroupCommitOptions = {},
  ) {
    this.maxTurns = options.maxTurns ?? 1_000_000;
    // Prepared once: a group runs them for every unit.
    this.statements = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT unit'),
      release: db.prepare('RELEASE unit'),
      rollbackToSavepoint: db.prepare('ROLLBACK TO unit'),
    };
  }

  /**
   * Runs `work` in the next group; settles once the group is committed and synced. `work` must do its
   * SQLite writes through better-sqlite3 (synchronous) and await nothing but them: it runs while the event
   * loop is held, and a unit that waits on I/O (a timer, a socket) fails its group instead of stalling the
   * process.
   */
  run = <T>(work: Unit<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // After the poll phase: every request whose body arrived in this turn of the loop joins the group.
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    });

  /**
   * Calls `publish` once the writes made so far are durable: at once when no group is running or waiting for
   * its sync, else after that group's sync, in commit order, and never if its transaction rolls back. How the
   * queue's in-memory index learns of messages only once their rows are on disk.
   */
  afterCommit = (publish: () => void): void => {
    const waiting = this.draining ?? this.unsynced.at(-1)?.publish;
    if (waiting) waiting.push(publish);
    else publish();
  };

  /** Closes the WAL's descriptor; after the database is closed, so it never drops a lock SQLite holds. */
  close(): void {
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }

  private flush(): void {
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return;
    this.commit(group).then(
      () => this.sync(),
      (error: unknown) => {
        const failure =
          error instanceof GroupCommitError
            ? error
            : new GroupCommitError(error instanceof Error ? error.message : String(error), { cause: error });
        for (const unit of group) unit.reject(failure);
      },
    );
  }

  /**
   * One transaction for the group, then in line for a sync with each unit's outcome; throws when the group as
   * a whole failed.
   */
  private async commit(group: Pending[]): Promise<void> {
    // Never someone else's: a transaction left open on the connection is not this group's to end.
    if (this.db.inTransaction) throw new GroupCommitError('the connection is inside another transaction');
    this.statements.begin.run();
    const publish: (() => void)[] = [];
    this.draining = publish;
    try {
      const outcomes = await this.drain(group, publish);
      this.statements.commit.run();
      this.committedSeq += 1;
      this.unsynced.push({ seq: this.committedSeq, group, outcomes, publish });
    } catch (error) {
      // A failed COMMIT (a deferred constraint, an I/O error) can leave the transaction open.
      if (this.db.inTransaction) this.statements.rollback.run();
      throw error;
    } finally {
      this.draining = undefined;
    }
  }

  /**
   * Starts a sync of the WAL for the groups committed since the last one started, unless MAX_SYNCS_IN_FLIGHT
   * are running (the first to end starts the next). When a sync ends, every group committed before it
   * started is durable: each publishes and settles, in commit order.
   */
  private sync(): void {
    if (this.syncsInFlight >= MAX_SYNCS_IN_FLIGHT || this.syncStartedFor === this.committedSeq) return;
    const upTo = this.committedSeq;
    this.syncStartedFor = upTo;
    this.syncsInFlight += 1;
    const done = (error: Error | null) => {
      this.syncsInFlight -= 1;
      while (this.unsynced[0] !== undefined && this.unsynced[0].seq <= upTo) {
        const { group, outcomes, publish } = this.unsynced.shift()!;
        // Committed in SQLite's view even if the sync failed: the queue must hold what the table holds, and a
        // sender retrying after the 5xx finds its events recorded.
        for (const callback of publish) callback();
        group.forEach((unit, index) => {
          const outcome = outcomes[index];
          if (error) unit.reject(new GroupCommitError(`the WAL sync failed: ${error.message}`));
          else if (outcome?.ok) unit.resolve(outcome.value);
          else unit.reject(outcome?.error);
        });
      }
      this.sync();
    };
    const fd = this.wal();
    if (fd === undefined) done(null);
    // The data and the size needed to read it back, as SQLite's own syncs on Linux; not the timestamps.
    else fdatasync(fd, done);
  }

  /**
   * The WAL file's descriptor, opened on first use (SQLite has made the file by the first commit) and kept
   * open: closing a descriptor drops every POSIX lock the process holds on the file, SQLite's included. The
   * WAL stays the same file while the runtime's connection is open. An in-memory database has none.
   */
  private wal(): number | undefined {
    if (this.db.memory) return undefined;
    if (this.walFd === undefined) {
      this.walFd = openSync(`${this.db.name}-wal`, 'r');
      // Its directory entry, once: a file made since its folder was last synced could vanish in a crash.
      const folder = openSync(dirname(this.db.name), 'r');
      try {
        fsyncSync(folder);
      } finally {
        closeSync(folder);
      }
    }
    return this.walFd;
  }

  /**
   * Runs the units one after the other, holding the event loop until they are done: a microtask that queues
   * itself again keeps Node from leaving its microtask queue, so no I/O callback or timer (a worker writing
   * on the same connection) runs while the transaction is open. Units whose writes are synchronous settle
   * within those turns; one that waits on I/O never would, and fails the group once `maxTurns` are spent,
   * before the loop is let go.
   */
  private async drain(group: Pending[], publish: (() => void)[]): Promise<Outcome[]> {
    let done = false;
    let turns = 0;
    let stalled: (error: GroupCommitError) => void = () => {};
    const stall = new Promise<never>((_, reject) => {
      stalled = reject;
    });
    // Raced below; a group that never stalls leaves it pending, one that does has already thrown.
    stall.catch(() => {});
    const hold = () => {
      if (done) return;
      if (++turns <= this.maxTurns) queueMicrotask(hold);
      else
        stalled(
          new GroupCommitError(
            `a unit was still waiting after ${this.maxTurns} microtask turns: units must not wait on I/O`,
          ),
        );
    };
    queueMicrotask(hold);
    const outcomes: Outcome[] = [];
    try {
      for (const unit of group) {
        this.statements.savepoint.run();
        const published = publish.length;
        const settled = new Promise<unknown>((resolve) => resolve(unit.work())).then(
          (value): Outcome => ({ ok: true, value }),
          (error: unknown): Outcome => ({ ok: false, error }),
        );
        const outcome = await Promise.race([settled, stall]);
        // SQLite rolls a transaction back by itself on some errors (disk full, I/O): the group is lost.
        if (!this.db.inTransaction) throw new GroupCommitError('the transaction was rolled back');
        // A unit that failed leaves nothing behind: its request answers an error, as if it never ran.
        if (!outcome.ok) {
          this.statements.rollbackToSavepoint.run();
          publish.length = published;
        }
        this.statements.release.run();
        outcomes.push(outcome);
      }
    } finally {
      done = true;
    }
    return outcomes;
  }
}
