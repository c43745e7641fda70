import { parseArgs } from 'node:util';
import { GLOBAL_OPTIONS, noMoreWords, parseCommandArgs } from '../arguments';
import { type CliContext, CliError, EXIT_OK } from '../cli-io';
import { ApiClient, type EventView, unexpectedAnswer } from '../http/api-client';
import { resolveTarget } from '../http/target';
import { field, printable, writeLines } from '../output';
import { operatorName } from './forget';

const CANCEL_OPTIONS = { ...GLOBAL_OPTIONS, json: { type: 'boolean' } } as const;

/**
 * `cancel <event-id>`: DELETE /events/{id}. A scheduled or held event ends `cancelled`, with no call; one
 * that ran (or waits in the queue) is refused with its status. IAM-signed on AWS, as the operator routes are.
 */
export async function cancelCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    () => parseArgs({ args: argv, options: CANCEL_OPTIONS, allowPositionals: true }),
    'cancel',
  );
  const [, id, ...rest] = positionals;
  if (!id) throw new CliError('name the event: hr-provisioning cancel <event-id>');
  noMoreWords(rest, 'cancel');
  const api = new ApiClient(resolveTarget(values, ctx), ctx);
  const answer = await api.send({
    method: 'DELETE',
    path: `/events/${encodeURIComponent(id)}`,
    query: { requestedBy: operatorName(ctx) },
    operator: true,
  });
  if (answer.status === 404) throw new CliError(`no event "${id}" was ever accepted`);
  if (answer.status === 409) {
    const status = (answer.body as { status?: string; message?: string }).status ?? 'unknown';
    throw new CliError(
      `event "${id}" is ${status} and cannot be cancelled: only a scheduled or held event can`,
    );
  }
  if (answer.status !== 200) throw unexpectedAnswer(`cancelling event "${id}"`, answer);
  const event = answer.body as EventView;
  writeLines(
    ctx.stdout,
    values.json ? [JSON.stringify(event, null, 2)] : [printable(`${field(event.id)}: ${event.status}`)],
  );
  return EXIT_OK;
}
