import type { EventMessage, MessageVerdict } from '../functions/core/engine/handle-event-message';
import type { Log } from '../functions/core/engine/ports';
import type { DeadLetter, ReceivedMessage, SqliteEventQueue } from './sqlite-event-queue';

export type WorkerPoolOptions = {
  concurrency: number;
  handle: (message: EventMessage) => Promise<MessageVerdict>;
  /** A message buried by the queue itself (delivery budget spent, e.g. it kept crashing the worker). */
  onBuried: (letter: DeadLetter) => Promise<void>;
  log: Log;
  /** Back-off when handling throws (the state store itself failed). */
  errorRetryMs?: number;
};

/**
 * The local counterpart of the SQS event source mapping: keeps up to `concurrency` events in progress,
 * at most one per employee (the queue hands out one message per group), and applies each verdict.
 */
export class WorkerPool {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly queue: SqliteEventQueue,
    private readonly options: WorkerPoolOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops taking work and waits up to `graceMs` for what is in progress; anything left is redelivered on restart. */
  async stop(graceMs: number): Promise<{ unfinished: number }> {
    this.running = false;
    await this.loop;
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), graceMs).unref(),
    );
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    return { unfinished: this.inFlight.size };
  }

  get busy(): number {
    return this.inFlight.size;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const free = this.options.concurrency - this.inFlight.size;
      if (free <= 0) {
        await Promise.race(this.inFlight);
        continue;
      }
      const messages = await this.queue.receive(free, 250, (letter) => void this.bury(letter));
      for (const message of messages) {
        const work = this.process(message).finally(() => this.inFlight.delete(work));
        this.inFlight.add(work);
      }
    }
  }

  private async process(message: ReceivedMessage): Promise<void> {
    try {
      const verdict = await this.options.handle({
        messageId: String(message.seq),
        body: message.body,
        receiveCount: message.receiveCount,
      });
      switch (verdict.action) {
        case 'delete':
          this.queue.delete(message);
          this.options.log.info('event done', { eventId: message.eventId, status: verdict.outcome.status });
          return;
        case 'retry':
          this.queue.retryLater(message, verdict.delayMs);
          this.options.log.info('event retried later', {
            eventId: message.eventId,
            delayMs: verdict.delayMs,
            reason: verdict.reason,
          });
          return;
        case 'dead-letter':
          this.queue.deadLetter(message, verdict.reason);
          this.options.log.warn('event dead-lettered', { eventId: message.eventId, reason: verdict.reason });
          return;
      }
    } catch (error) {
      this.options.log.error('handling an event failed; it will be retried', {
        eventId: message.eventId,
        error: error instanceof Error ? error.message : String(error),
      });
      this.queue.retryLater(message, this.options.errorRetryMs ?? 5_000);
    }
  }

  private async bury(letter: DeadLetter): Promise<void> {
    try {
      await this.options.onBuried(letter);
    } catch (error) {
      this.options.log.error('recording a dead letter failed', {
        eventId: letter.eventId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
