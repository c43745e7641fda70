import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { GLOBAL_OPTIONS, noMoreWords, parseCommandArgs, wholeNumber } from '../arguments';
import { type CliContext, CliError, EXIT_OK } from '../cli-io';
import {
  type DeadLetterQueue,
  type DeadLetterRow,
  LocalDeadLetterQueue,
  notLocal,
} from '../dlq/dead-letter-queue';
import { SqsDeadLetterQueue } from '../dlq/sqs-dead-letter-queue';
import { ApiClient } from '../http/api-client';
import { resolveTarget } from '../http/target';
import { clip, field, formatTable, writeLines } from '../output';

const DLQ_OPTIONS = {
  ...GLOBAL_OPTIONS,
  json: { type: 'boolean' },
  max: { type: 'string' },
  id: { type: 'string', multiple: true },
  'queue-url': { type: 'string' },
  'dlq-url': { type: 'string' },
} as const;

type DlqValues = ReturnType<typeof parseDlqArgs>['values'];

const parseDlqArgs = (argv: string[]) =>
  parseArgs({ args: argv, options: DLQ_OPTIONS, allowPositionals: true });

/** `dlq list` and `dlq redrive`: the local runtime's dead letters, or the SQS dead-letter queue on AWS. */
export async function dlqCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(() => parseDlqArgs(argv), 'dlq');
  const [, action, ...rest] = positionals;
  noMoreWords(rest, 'dlq');
  if (action === 'list') {
    const max = wholeNumber(values.max, 'max', { min: 1, max: 100_000, fallback: 100 });
    const letters = await queueOf(values, ctx, 'list').list(max);
    writeLines(
      ctx.stdout,
      values.json ? [JSON.stringify({ deadLetters: letters }, null, 2)] : table(letters, max),
    );
    return EXIT_OK;
  }
  if (action === 'redrive') {
    const ids = values.id;
    const redriven = await queueOf(values, ctx, 'redrive').redrive(ids);
    writeLines(ctx.stdout, redriveReport(redriven, ids));
    return EXIT_OK;
  }
  throw new CliError(`say what to do: hr-provisioning dlq list | dlq redrive [--id <event-id> ...]`);
}

function queueOf(values: DlqValues, ctx: CliContext, action: 'list' | 'redrive'): DeadLetterQueue {
  const dlqUrl = values['dlq-url'] ?? ctx.env.HRP_DLQ_URL;
  const queueUrl = values['queue-url'] ?? ctx.env.HRP_QUEUE_URL;
  if (dlqUrl) {
    if (action === 'redrive' && !queueUrl) {
      throw new CliError(
        'redrive sends messages back to the main queue: pass --queue-url or set HRP_QUEUE_URL',
      );
    }
    const region =
      values.region ?? regionOfQueueUrl(dlqUrl) ?? ctx.env.AWS_REGION ?? ctx.env.AWS_DEFAULT_REGION;
    const client = new SQSClient(region ? { region } : {});
    return new SqsDeadLetterQueue({ client, queueUrl, dlqUrl, now: ctx.now });
  }
  if (queueUrl) throw new CliError('name the dead-letter queue too: pass --dlq-url or set HRP_DLQ_URL');
  const target = resolveTarget(values, ctx);
  // On AWS, /dlq does not exist and API Gateway would answer an unhelpful 403.
  if (target.iamRegion) throw notLocal();
  return new LocalDeadLetterQueue(new ApiClient(target, ctx));
}

/** https://sqs.eu-west-1.amazonaws.com/123/q.fifo, or the legacy https://eu-west-1.queue.amazonaws.com/… */
function regionOfQueueUrl(url: string): string | undefined {
  try {
    const host = new URL(url).hostname;
    return (
      /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(host)?.[1] ??
      /^([a-z0-9-]+)\.queue\.amazonaws\.com/.exec(host)?.[1]
    );
  } catch {
    throw new CliError(
      `"${url}" is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>.fifo)`,
    );
  }
}

function table(letters: readonly DeadLetterRow[], max: number): string[] {
  if (letters.length === 0) return ['the dead-letter queue is empty'];
  const rows = letters.map((l) => [
    l.eventId,
    l.employeeKey,
    l.deadAt,
    l.receiveCount === undefined ? '-' : String(l.receiveCount),
    clip(l.reason, 100),
  ]);
  const lines = formatTable(['EVENT', 'EMPLOYEE', 'DEAD AT', 'DELIVERIES', 'REASON'], rows);
  if (letters.length === max) lines.push(`(showing the first ${max}: --max N shows more)`);
  return lines;
}

function redriveReport(redriven: readonly string[], asked: readonly string[] | undefined): string[] {
  const lines =
    redriven.length === 0
      ? ['nothing was redriven']
      : [`redriven ${redriven.length}:`, ...redriven.map((id) => `  ${field(id)}`)];
  const missing = (asked ?? []).filter((id) => !redriven.includes(id));
  if (missing.length > 0) lines.push(`not in the dead-letter queue: ${missing.join(', ')}`);
  if (redriven.length > 0) lines.push('follow them with: hr-provisioning status <event-id>');
  return lines;
}
