import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ForgetAudit, ForgetSubject } from '../../../functions/core/engine/ports';
import { coversMessage } from '../../../functions/core/privacy/forget-person';
import { GLOBAL_OPTIONS, noMoreWords, parseCommandArgs } from '../arguments';
import { type CliContext, CliError, EXIT_OK } from '../cli-io';
import { SqsDeadLetterQueue } from '../dlq/sqs-dead-letter-queue';
import { ApiClient, problemOf, unexpectedAnswer } from '../http/api-client';
import { resolveTarget } from '../http/target';
import { writeLines } from '../output';

const FORGET_OPTIONS = {
  ...GLOBAL_OPTIONS,
  employee: { type: 'string' },
  email: { type: 'string' },
  json: { type: 'boolean' },
  'dlq-url': { type: 'string' },
} as const;

/** What POST /forget answers (ingest/routes/operator.ts). */
type ForgetAnswer = { forgotten: ForgetAudit; audit: string; match: Omit<ForgetSubject, 'emails'> };

/**
 * `forget --employee <id> | --email <address>`: erases a person through POST /forget (the local runtime
 * also drops their queued messages and dead letters), then, on AWS, deletes their messages from the SQS
 * dead-letter queue, which the API cannot reach: a redrive would otherwise bring them back.
 */
export async function forgetCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    () => parseArgs({ args: argv, options: FORGET_OPTIONS, allowPositionals: true }),
    'forget',
  );
  noMoreWords(positionals.slice(1), 'forget');
  const { employee, email } = values;
  if ((employee === undefined) === (email === undefined)) {
    throw new CliError('name the person one way: hr-provisioning forget --employee <id> | --email <address>');
  }
  const target = resolveTarget(values, ctx);
  const dlqUrl = values['dlq-url'] ?? ctx.env.HRP_DLQ_URL;
  const answer = await new ApiClient(target, ctx).send({
    method: 'POST',
    path: '/forget',
    body: JSON.stringify({
      ...(employee === undefined ? { email } : { employeeId: employee }),
      requestedBy: operatorName(ctx),
    }),
    contentType: 'application/json',
    operator: true,
    // A repeat finds nothing left and writes a second audit line that hides what the first one did.
    retry: false,
  });
  if (answer.status === 409) {
    const busy = (answer.body as { events?: string[] }).events ?? [];
    throw new CliError(
      `${problemOf(answer.body).message ?? 'the person has events in progress'}: ${busy.join(', ')}\nfollow them with: hr-provisioning status <event-id>`,
    );
  }
  if (answer.status === 404) {
    throw new CliError('this API has no POST /forget route: update the deployment or the local runtime');
  }
  if (answer.status !== 200) throw unexpectedAnswer('forgetting the person', answer);
  const { forgotten, audit, match } = answer.body as ForgetAnswer;

  let sqsDeadLetters: number | undefined;
  if (dlqUrl) {
    const subject: ForgetSubject = { ...match, emails: [] };
    const region = values.region ?? target.iamRegion ?? ctx.env.AWS_REGION ?? ctx.env.AWS_DEFAULT_REGION;
    const dlq = new SqsDeadLetterQueue({
      client: new SQSClient(region ? { region } : {}),
      queueUrl: undefined,
      dlqUrl,
      now: ctx.now,
    });
    sqsDeadLetters = await dlq.forget((message) => coversMessage(subject, message));
  }
  if (values.json) {
    writeLines(ctx.stdout, [
      JSON.stringify(
        { forgotten, audit, ...(sqsDeadLetters === undefined ? {} : { sqsDeadLetters }) },
        null,
        2,
      ),
    ]);
  } else {
    writeLines(ctx.stdout, [
      `forgot person ${forgotten.person}: ${count(forgotten.events, 'event')}, ${count(forgotten.steps, 'ledger step')}, ${count(forgotten.people, 'person record')}, ${count(forgotten.emails, 'email link')}, ${count(forgotten.queued, 'queued message')}, ${count(forgotten.deadLetters, 'dead letter')}`,
      ...(sqsDeadLetters === undefined
        ? []
        : [`SQS dead-letter queue: ${count(sqsDeadLetters, 'message')} deleted`]),
      `audit: ${audit}`,
    ]);
  }
  if (target.iamRegion && !dlqUrl) {
    writeLines(ctx.stderr, [
      'warning: the SQS dead-letter queue was not searched; a redrive would bring their dead letters back: run again with --dlq-url (or HRP_DLQ_URL)',
    ]);
  }
  return EXIT_OK;
}

/** Who runs the CLI, for the audit line and notes: the OS user. */
export function operatorName(ctx: CliContext): string {
  const fromEnv = ctx.env.USER ?? ctx.env.USERNAME;
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
