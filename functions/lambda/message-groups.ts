import type { SQSRecord } from 'aws-lambda';

/** Thrown for a record that was not run: an earlier record of its message group failed, or time ran out. */
export class HeldBackError extends Error {
  override name = 'HeldBackError';
}

/** What a failed record asks of the rest of its group: come back together with it. */
export type GroupFailure = { delayMs: number };

/**
 * FIFO order for a batch whose records run side by side (Powertools' BatchProcessor, processInParallel):
 * each message group's records run one after another, the groups at once. Written here rather than with
 * Powertools' SqsFifoPartialProcessor, which runs every record of the batch one after another and gives the
 * records it skips no say in when they come back (they wait out the queue's whole visibility timeout).
 * One instance per invocation.
 */
export class MessageGroupSequencer {
  private readonly tails = new Map<string, Promise<GroupFailure | undefined>>();

  constructor(
    private readonly hooks: {
      /** Makes a held-back record visible again after `delayMs`, with the record that failed before it. */
      holdBack: (record: SQSRecord, delayMs: number) => Promise<void>;
      /** The delay of a failed record, from its error (its Retry-After or backoff). */
      delayOf: (error: unknown) => number;
      /** False when the invocation has no time left to start a record. */
      mayStart: () => boolean;
    },
  ) {}

  /** Runs `handle` for `record` after the earlier records of its group, unless one of them failed. */
  run(record: SQSRecord, handle: () => Promise<void>): Promise<void> {
    const group = record.attributes.MessageGroupId ?? record.messageId;
    const previous = this.tails.get(group) ?? Promise.resolve(undefined);
    const outcome = previous.then(async (failure): Promise<GroupFailure | undefined> => {
      if (failure) {
        await this.hooks.holdBack(record, failure.delayMs);
        throw Object.assign(new HeldBackError(`held back behind an earlier record of its group`), {
          failure,
        });
      }
      if (!this.hooks.mayStart()) {
        // Not started, so no attempt is spent: it is simply the next invocation's first record.
        await this.hooks.holdBack(record, 0);
        throw Object.assign(new HeldBackError('not started: the invocation is about to time out'), {
          failure: { delayMs: 0 },
        });
      }
      try {
        await handle();
        return undefined;
      } catch (error) {
        throw Object.assign(error instanceof Error ? error : new Error(String(error)), {
          failure: { delayMs: this.hooks.delayOf(error) },
        });
      }
    });
    this.tails.set(
      group,
      outcome.then(
        () => undefined,
        (error: { failure?: GroupFailure }) => error.failure ?? { delayMs: 0 },
      ),
    );
    return outcome.then(() => undefined);
  }
}
