import type { Backlog } from '../core/engine/ports';

/**
 * The worker λ's backlog: the SQS records of the current invocation that have started and not finished. A
 * batch of new hires (up to the event source's batch size, one record per person) counts whole, as its
 * records run side by side; a person's later records count once their turn comes. One per process, as Lambda
 * runs one invocation at a time in it, so it spans no other batch.
 */
export class RecordsInProgress implements Backlog {
  private running = 0;

  waiting(): number {
    return this.running;
  }

  /** Runs one record's handling, counted while it runs. */
  async track<T>(handle: () => Promise<T>): Promise<T> {
    this.running += 1;
    try {
      return await handle();
    } finally {
      this.running -= 1;
    }
  }
}

/** The process's one counter: processRecord counts into it, the engine's deps read it (worker-deps.ts). */
export const recordsInProgress = new RecordsInProgress();
