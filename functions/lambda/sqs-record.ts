import type { SQSRecord } from 'aws-lambda';

/** The queue URL of an SQS record's source, from its ARN (arn:aws:sqs:<region>:<account>:<name>). */
export function queueUrlOf(record: SQSRecord): string {
  const [, partition, , region, account, name] = record.eventSourceARN.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}

/** SQS allows a visibility timeout of at most 12 hours. */
export const visibilitySecondsFor = (delayMs: number): number =>
  Math.min(43_200, Math.max(0, Math.ceil(delayMs / 1000)));

/** The event id in a message body, when it is an object with one; the engine judges the rest. */
export function eventIdOf(body: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(body ?? '') as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}
