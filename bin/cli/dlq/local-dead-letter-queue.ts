import type { LocalDeadLetter } from '../api-types';
import { CliError } from '../cli-error';
import type { ApiClient } from '../http/api-client';
import { unexpectedAnswer } from '../http/problem';
import type { DeadLetterQueue, DeadLetterRow } from './dead-letter-queue';

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
