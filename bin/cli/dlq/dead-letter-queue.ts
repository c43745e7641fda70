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
