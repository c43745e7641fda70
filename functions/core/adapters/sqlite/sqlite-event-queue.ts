import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { PersonQueue, QueuedMessage } from '../../privacy/forget-person';
import { DEAD_LETTER_RETENTION_DAYS } from '../../privacy/retention';
import type { EventQueue, OutgoingMessage } from '../../queue/event-queue';

export type QueueOptions = {
  /** How long a received message stays hidden before it is delivered again (the worker died or hung). */
  visibilityTimeoutMs: number;
  /** Deliveries after which a message goes to the dead-letter store instead of being delivered again. */
  maxReceiveCount: number;
  /** SQS FIFO drops a repeated deduplication id within five minutes; so does this queue. */
  deduplicationWindowMs?: number;
  now?: () => number;
  /**
   * How sent messages reach the in-memory index: at once by default. The local runtime's group commit
   * (local/group-commit.ts) calls `publish` once the transaction that wrote them commits, and never if it
   * rolls back, so the workers are never handed a message whose row is not on disk.
   */
  afterCommit?: (publish: () => void) => void;
};

export type ReceivedMessage = {
  seq: number;
  eventId: string;
  groupId: string;
  body: string;
  receiveCount: number;
  receipt: string;
};

export type DeadLetter = {
  seq: number;
  eventId: string;
  groupId: string;
  body: string;
  receiveCount: number;
  reason: string;
  deadAt: string;
};

type Message = {
  seq: number;
  groupId: string;
  eventId: string;
  dedupId: string;
  body: string;
  visibleAt: number;
  receiveCount: number;
  receipt: string | null;
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queue_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  group_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  dedup_id TEXT NOT NULL,
  body TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  receipt TEXT
);
CREATE TABLE IF NOT EXISTS queue_dedup (dedup_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
-- Every send deletes the expired ids: without this index that was a scan of five minutes of ids per send.
CREATE INDEX IF NOT EXISTS queue_dedup_by_expiry ON queue_dedup (expires_at);
CREATE TABLE IF NOT EXISTS queue_dead_letters (
  seq INTEGER PRIMARY KEY,
  group_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  body TEXT NOT NULL,
  receive_count INTEGER NOT NULL,
  reason TEXT NOT NULL,
  dead_at INTEGER NOT NULL
);`;

/**
 * A durable FIFO queue with the SQS FIFO semantics the pipeline relies on: per-group order with
 * parallelism across groups (a group's next message waits while its head is in flight or delayed),
 * visibility timeout, receive counts, a dead-letter store whose letters expire as SQS's do
 * (DEAD_LETTER_RETENTION_DAYS after they were buried), and deduplication by id.
 * Every change is written to SQLite before it is acknowledged; the scheduling index lives in memory
 * (this process is the only consumer) and is rebuilt from the table at start.
 */
export class SqliteEventQueue implements EventQueue, PersonQueue {
  private readonly groups = new Map<string, Message[]>();
  /** Groups whose head can be delivered now, in the order they became ready (fairness). */
  private readonly ready = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private waiters: (() => void)[] = [];
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly options: QueueOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.windowMs = options.deduplicationWindowMs ?? 5 * 60_000;
    db.exec(SCHEMA);
    this.statements = {
      // Remembers an id for the window, unless it is remembered and unexpired: then 0 changes, a duplicate.
      remember: db.prepare<[string, number, number]>(
        `INSERT INTO queue_dedup (dedup_id, expires_at) VALUES (?, ?)
        ON CONFLICT (dedup_id) DO UPDATE SET expires_at = excluded.expires_at
        WHERE queue_dedup.expires_at <= ?`,
      ),
      forget: db.prepare('DELETE FROM queue_dedup WHERE expires_at <= ?'),
      insert: db.prepare(
        'INSERT INTO queue_messages (group_id, event_id, dedup_id, body, enqueued_at, visible_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      deliver: db.prepare(
        'UPDATE queue_messages SET visible_at = ?, receive_count = ?, receipt = ? WHERE seq = ?',
      ),
      delay: db.prepare('UPDATE queue_messages SET visible_at = ?, receipt = NULL WHERE seq = ?'),
      remove: db.prepare('DELETE FROM queue_messages WHERE seq = ?'),
      bury: db.prepare(
        'INSERT INTO queue_dead_letters (seq, group_id, event_id, body, receive_count, reason, dead_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      deadLetters: db.prepare('SELECT * FROM queue_dead_letters ORDER BY seq'),
      unbury: db.prepare('DELETE FROM queue_dead_letters WHERE seq = ?'),
    };
    this.load();
  }

  /** Durable once it resolves; duplicates within the deduplication window are dropped silently, as SQS does. */
  async send(messages: OutgoingMessage[]): Promise<void> {
    const now = this.now();
    const added: Message[] = [];
    const write = () => {
      this.statements.forget.run(now);
      for (const m of messages) {
        if (this.statements.remember.run(m.deduplicationId, now + this.windowMs, now).changes === 0) continue;
        const { lastInsertRowid } = this.statements.insert.run(
          m.groupId,
          m.eventId,
          m.deduplicationId,
          m.body,
          now,
          now,
        );
        added.push({
          seq: Number(lastInsertRowid),
          groupId: m.groupId,
          eventId: m.eventId,
          dedupId: m.deduplicationId,
          body: m.body,
          visibleAt: now,
          receiveCount: 0,
          receipt: null,
        });
      }
    };
    // Inside a transaction already (the local runtime's group commit): no savepoint of its own.
    if (this.db.inTransaction) write();
    else this.db.transaction(write)();
    const publish = () => {
      for (const message of added) this.append(message);
    };
    if (this.options.afterCommit) this.options.afterCommit(publish);
    else publish();
  }

  /**
   * Up to `max` messages, at most one per group, waiting up to `waitMs` for one (long polling).
   * Messages past their delivery budget go to the dead-letter store instead (reported by `onDeadLetter`).
   */
  async receive(
    max: number,
    waitMs: number,
    onDeadLetter?: (letter: DeadLetter) => void,
  ): Promise<ReceivedMessage[]> {
    if (this.ready.size === 0 && waitMs > 0) await this.waitForReady(waitMs);
    const received: ReceivedMessage[] = [];
    const now = this.now();
    this.db.transaction(() => {
      for (const groupId of this.ready) {
        if (received.length >= max) break;
        this.ready.delete(groupId);
        const head = this.groups.get(groupId)?.[0];
        if (!head) continue;
        if (head.receiveCount >= this.options.maxReceiveCount) {
          const letter = this.buryHead(head, `delivered ${head.receiveCount} times without completing`, now);
          onDeadLetter?.(letter);
          continue;
        }
        head.receiveCount += 1;
        head.receipt = randomUUID();
        head.visibleAt = now + this.options.visibilityTimeoutMs;
        this.statements.deliver.run(head.visibleAt, head.receiveCount, head.receipt, head.seq);
        this.wakeAt(groupId, head.visibleAt);
        received.push({ ...pick(head), receipt: head.receipt });
      }
    })();
    return received;
  }

  /** The work is done: the message leaves the queue and its group moves on. */
  delete(message: ReceivedMessage): void {
    const head = this.heldHead(message);
    if (!head) return;
    this.statements.remove.run(head.seq);
    this.advance(head.groupId);
  }

  /** Hand back for a later try (transient failure): the group waits with it, as in SQS FIFO. */
  retryLater(message: ReceivedMessage, delayMs: number): void {
    const head = this.heldHead(message);
    if (!head) return;
    head.receipt = null;
    head.visibleAt = this.now() + delayMs;
    this.statements.delay.run(head.visibleAt, head.seq);
    this.wakeAt(head.groupId, head.visibleAt);
  }

  /** Permanent failure: into the dead-letter store with the reason; the group moves on. */
  deadLetter(message: ReceivedMessage, reason: string): DeadLetter | undefined {
    const head = this.heldHead(message);
    if (!head) return undefined;
    return this.db.transaction(() => this.buryHead(head, reason, this.now()))();
  }

  deadLetters(): DeadLetter[] {
    return this.statements.deadLetters.all().map((row) => deadLetterOf(row as DeadLetterRow));
  }

  /** Sends dead letters back to the queue (all, or those of the given event ids) with a fresh delivery budget. */
  redrive(eventIds?: string[]): DeadLetter[] {
    const wanted = eventIds ? new Set(eventIds) : undefined;
    const letters = this.deadLetters().filter((l) => !wanted || wanted.has(l.eventId));
    const now = this.now();
    const added: Message[] = [];
    this.db.transaction(() => {
      for (const letter of letters) {
        this.statements.unbury.run(letter.seq);
        const dedupId = `${letter.eventId}#redrive-${now}`;
        const { lastInsertRowid } = this.statements.insert.run(
          letter.groupId,
          letter.eventId,
          dedupId,
          letter.body,
          now,
          now,
        );
        added.push({
          seq: Number(lastInsertRowid),
          groupId: letter.groupId,
          eventId: letter.eventId,
          dedupId,
          body: letter.body,
          visibleAt: now,
          receiveCount: 0,
          receipt: null,
        });
      }
    })();
    for (const message of added) this.append(message);
    return letters;
  }

  /**
   * Deletes dead letters buried more than DEAD_LETTER_RETENTION_DAYS before `nowMs`, as SQS drops them
   * from the dead-letter queue; the runtime runs it at start and hourly.
   */
  purgeExpiredDeadLetters(nowMs: number = this.now()): number {
    const cutoff = nowMs - DEAD_LETTER_RETENTION_DAYS * 86_400_000;
    return this.db.prepare('DELETE FROM queue_dead_letters WHERE dead_at < ?').run(cutoff).changes;
  }

  /**
   * A forgotten person's messages: deletes every waiting message and dead letter `covers` accepts, in one
   * transaction, so none of them is delivered later to write the person back. Nothing is deleted while
   * one of them is in flight: its worker is writing the person right now.
   */
  forget(
    covers: (message: QueuedMessage) => boolean,
  ): { queued: number; deadLetters: number } | { inFlight: string[] } {
    const waiting: Message[] = [];
    const inFlight: string[] = [];
    for (const group of this.groups.values()) {
      for (const m of group) {
        if (!covers(m)) continue;
        if (m.receipt) inFlight.push(m.eventId);
        else waiting.push(m);
      }
    }
    if (inFlight.length > 0) return { inFlight };
    const letters = this.deadLetters().filter((l) => covers(l));
    this.db.transaction(() => {
      for (const m of waiting) this.statements.remove.run(m.seq);
      for (const letter of letters) this.statements.unbury.run(letter.seq);
    })();
    const gone = new Set(waiting.map((m) => m.seq));
    for (const groupId of new Set(waiting.map((m) => m.groupId))) {
      const group = this.groups.get(groupId) ?? [];
      const head = group[0];
      const rest = group.filter((m) => !gone.has(m.seq));
      const next = rest[0];
      if (!next) {
        this.groups.delete(groupId);
        this.ready.delete(groupId);
        this.clearTimer(groupId);
      } else {
        this.groups.set(groupId, rest);
        if (next !== head) this.wakeAt(groupId, next.visibleAt);
      }
    }
    return { queued: waiting.length, deadLetters: letters.length };
  }

  /** Messages waiting or in flight, and dead letters: for /healthz and the CLI. */
  depth(): { queued: number; inFlight: number; deadLetters: number } {
    let queued = 0;
    let inFlight = 0;
    for (const group of this.groups.values()) {
      for (const m of group) m.receipt ? inFlight++ : queued++;
    }
    const dead = this.db.prepare('SELECT COUNT(*) AS n FROM queue_dead_letters').get() as { n: number };
    return { queued, inFlight, deadLetters: dead.n };
  }

  /** Stops the timers so the process can exit; the table is the truth, nothing is lost. */
  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const wake of this.waiters) wake();
    this.waiters = [];
  }

  private load(): void {
    const now = this.now();
    const rows = this.db.prepare('SELECT * FROM queue_messages ORDER BY seq').all() as MessageRow[];
    for (const row of rows) {
      // A receipt means the message was in flight when the last process died: deliver it again now.
      const visibleAt = row.receipt ? now : row.visible_at;
      this.append({
        seq: row.seq,
        groupId: row.group_id,
        eventId: row.event_id,
        dedupId: row.dedup_id,
        body: row.body,
        visibleAt,
        receiveCount: row.receive_count,
        receipt: null,
      });
    }
  }

  private append(message: Message): void {
    const group = this.groups.get(message.groupId);
    if (group) {
      group.push(message);
      return;
    }
    this.groups.set(message.groupId, [message]);
    this.wakeAt(message.groupId, message.visibleAt);
  }

  private advance(groupId: string): void {
    const group = this.groups.get(groupId);
    group?.shift();
    this.clearTimer(groupId);
    const next = group?.[0];
    if (!group || !next) {
      this.groups.delete(groupId);
      this.ready.delete(groupId);
      return;
    }
    this.wakeAt(groupId, next.visibleAt);
  }

  private buryHead(head: Message, reason: string, now: number): DeadLetter {
    this.statements.remove.run(head.seq);
    this.statements.bury.run(head.seq, head.groupId, head.eventId, head.body, head.receiveCount, reason, now);
    this.advance(head.groupId);
    return { ...pick(head), reason, deadAt: new Date(now).toISOString() };
  }

  private heldHead(message: ReceivedMessage): Message | undefined {
    const head = this.groups.get(message.groupId)?.[0];
    // A stale receipt (the visibility timeout ran out and the message went to someone else) changes nothing.
    return head && head.seq === message.seq && head.receipt === message.receipt ? head : undefined;
  }

  /** Makes the group ready at `at`: now, or by a timer (a delayed head, or an in-flight head's visibility timeout). */
  private wakeAt(groupId: string, at: number): void {
    this.clearTimer(groupId);
    const delay = at - this.now();
    if (delay <= 0) {
      this.markReady(groupId);
      return;
    }
    this.ready.delete(groupId);
    const timer = setTimeout(() => {
      this.timers.delete(groupId);
      const head = this.groups.get(groupId)?.[0];
      if (head) {
        head.receipt = null;
        this.markReady(groupId);
      }
    }, delay);
    timer.unref();
    this.timers.set(groupId, timer);
  }

  private markReady(groupId: string): void {
    this.ready.add(groupId);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private clearTimer(groupId: string): void {
    const timer = this.timers.get(groupId);
    if (timer) clearTimeout(timer);
    this.timers.delete(groupId);
  }

  private waitForReady(waitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, waitMs);
      timer.unref();
      const self = this;
      function done() {
        clearTimeout(timer);
        self.waiters = self.waiters.filter((w) => w !== done);
        resolve();
      }
      this.waiters.push(done);
    });
  }
}

type MessageRow = {
  seq: number;
  group_id: string;
  event_id: string;
  dedup_id: string;
  body: string;
  visible_at: number;
  receive_count: number;
  receipt: string | null;
};

type DeadLetterRow = {
  seq: number;
  group_id: string;
  event_id: string;
  body: string;
  receive_count: number;
  reason: string;
  dead_at: number;
};

function deadLetterOf(row: DeadLetterRow): DeadLetter {
  return {
    seq: row.seq,
    eventId: row.event_id,
    groupId: row.group_id,
    body: row.body,
    receiveCount: row.receive_count,
    reason: row.reason,
    deadAt: new Date(row.dead_at).toISOString(),
  };
}

const pick = (m: Message) => ({
  seq: m.seq,
  eventId: m.eventId,
  groupId: m.groupId,
  body: m.body,
  receiveCount: m.receiveCount,
});
