import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEAD_LETTER_RETENTION_DAYS } from '../functions/core/privacy/retention';

/** Lambda's guidance: a visibility timeout of at least six times the consumer's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export interface EventQueuesProps {
  /** The worker's timeout; the queue's visibility timeout is six times it. */
  readonly workerTimeout: Duration;
  /** Deliveries of a message before SQS moves it to the dead-letter queue. */
  readonly maxReceiveCount: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The FIFO event queue (one message group per employee) and its FIFO dead-letter queue.
 *
 * High-throughput FIFO: deduplication and throughput are per message group, so one busy employee cannot
 * slow the others. Content-based deduplication is off: the producer sets MessageDeduplicationId to the
 * event id, so a re-sent event is dropped even if its body differs (say, a re-exported CSV).
 */
export class EventQueues extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: EventQueuesProps) {
    super(scope, id);

    // Both queues: FIFO with high-throughput mode, producer-set deduplication ids, SSE, TLS only.
    const fifo = {
      fifo: true,
      contentBasedDeduplication: false,
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    } as const;

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...fifo,
      // SQS keeps a message's original enqueue time when it moves it here: the DLQ must outlive the queue.
      // People are kept at least as long (privacy/retention.ts), so a redriven event still finds its order.
      retentionPeriod: Duration.days(DEAD_LETTER_RETENTION_DAYS),
      removalPolicy: props.removalPolicy,
    });

    this.queue = new Queue(this, 'Queue', {
      ...fifo,
      visibilityTimeout: Duration.seconds(props.workerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
      removalPolicy: props.removalPolicy,
    });

    Validations.of(this.deadLetterQueue).acknowledge(
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is the dead-letter queue of the event queue; a dead-letter queue of its own would only hide failed events one level deeper',
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'This queue is the dead-letter queue of the event queue: operators inspect and redrive it with the CLI, so it has no redrive policy itself',
      },
    );
  }
}
