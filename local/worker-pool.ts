import type {
  DeadLetter,
  ReceivedMessage,
  SqliteEventQueue,
} from '../functions/core/adapters/sqlite/sqlite-event-queue';
import type { Log } from '../functions/core/engine/ports';
import {
  type ConsumerDeps,
  type ConsumerQueue,
  consumeMessage,
  failBuriedEvent,
} from '../functions/core/queue/consume-message';

export type WorkerPoolOptions = {
  concurrency: number;
  /** The engine's deps, which consumeMessage runs each message with. */
  deps: ConsumerDeps;
  log: Log;
  /** Back-off when handling throws (the state store itself failed). */
  errorRetryMs?: number;
};

/**
 * The local counterpart of the SQS event source mapping: keeps up to `concurrency` events in progress,
 * at most one per employee (the queue hands out one message per group), and has the consumer
 * (core/queue/consume-message.ts) apply each verdict to the queue.
 */
export class WorkerPool {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly consumer: ConsumerQueue<ReceivedMessage>;
  /** The engine's deps, with the queue's backlog: when many messages wait, the engine reads users in pages. */
  private readonly deps: ConsumerDeps;

  constructor(
    private readonly queue: SqliteEventQueue,
    private readonly options: WorkerPoolOptions,
  ) {
    this.consumer = consumerQueueOf(queue);
    this.deps = { ...options.deps, backlog: { waiting: () => waitingIn(queue) } };
  }

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
      await consumeMessage(message, this.consumer, this.deps);
    } catch {
      // Logged by the consumer; back after a pause rather than the whole visibility timeout.
      this.queue.retryLater(message, this.options.errorRetryMs ?? 5_000);
    }
  }

  /** A message the queue buried by itself, its delivery budget spent (it kept crashing the worker). */
  private bury(letter: DeadLetter): Promise<void> {
    return failBuriedEvent(letter, { store: this.options.deps.store, log: this.options.log });
  }
}

/** Messages waiting or in flight: the events this process has still to converge. */
function waitingIn(queue: SqliteEventQueue): number {
  const { queued, inFlight } = queue.depth();
  return queued + inFlight;
}

/** The consumer's queue operations on the SQLite queue, whose operations are synchronous. */
function consumerQueueOf(queue: SqliteEventQueue): ConsumerQueue<ReceivedMessage> {
  return {
    deliveryOf: (message) => ({
      messageId: String(message.seq),
      body: message.body,
      receiveCount: message.receiveCount,
    }),
    delete: async (message) => queue.delete(message),
    deadLetter: async (message, reason) => {
      queue.deadLetter(message, reason);
    },
    retryLater: async (message, delayMs) => queue.retryLater(message, delayMs),
  };
}
