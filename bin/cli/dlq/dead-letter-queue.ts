import { CliError } from '../cli-io';
import { type ApiClient, type LocalDeadLetter, unexpectedAnswer } from '../http/api-client';

/** A dead letter as the operator sees it, from the local runtime or from SQS. */
export type DeadLetterRow = {
  eventId: string;
  employeeKey: string;
  reason: string;
  deadAt: string;
  /** Deliveries before it was buried; SQS does not keep this across the move, so it may be unknown. */
  receiveCount?: number;
};

/** The dead-letter queue behind `dlq list` and `dlq redrive`, local or on AWS. */
export interface DeadLetterQueue {
  /** Up to `max` dead letters, oldest first where the queue knows the order. */
  list(max: number): Promise<DeadLetterRow[]>;
  /** Sends the dead letters of the given events (all when none are given) back to be processed; returns their ids. */
  redrive(eventIds: readonly string[] | undefined): Promise<string[]>;
}

/** The local runtime's dead-letter store, through its `/dlq` routes. */
export class LocalDeadLetterQueue implements DeadLetterQueue {
  readonly #api: ApiClient;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  async list(max: number): Promise<DeadLetterRow[]> {
    const answer = await this.#api.send({ method: 'GET', path: '/dlq' });
    if (answer.status === 404) throw notLocal();
    if (answer.status !== 200) throw unexpectedAnswer('listing the dead-letter queue', answer);
    return (answer.body as { deadLetters: LocalDeadLetter[] }).deadLetters.slice(0, max);
  }

  async redrive(eventIds: readonly string[] | undefined): Promise<string[]> {
    const answer = await this.#api.send({
      method: 'POST',
      path: '/dlq/redrive',
      body: JSON.stringify(eventIds ? { ids: eventIds } : {}),
      contentType: 'application/json',
      // A repeat would find nothing left to redrive and hide what the first one did.
      retry: false,
    });
    if (answer.status === 404) throw notLocal();
    if (answer.status !== 202) throw unexpectedAnswer('redriving the dead-letter queue', answer);
    return (answer.body as { redriven: string[] }).redriven;
  }
}

/** On AWS there is no /dlq route: the dead-letter queue is SQS. */
export const notLocal = (): CliError =>
  new CliError(
    'this API has no /dlq route (on AWS the dead-letter queue is SQS): pass --queue-url and --dlq-url, or set HRP_QUEUE_URL and HRP_DLQ_URL',
  );
