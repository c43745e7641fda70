import { parseArgs } from 'node:util';
import type { EventView } from '../api-types';
import { GLOBAL_OPTIONS, noMoreWords, parseCommandArgs } from '../arguments';
import { CliError, EXIT_OK } from '../cli-error';
import { type CliContext, writeLines } from '../cli-io';
import { describeEvent } from '../format/event-view';
import { ApiClient } from '../http/api-client';
import { unexpectedAnswer } from '../http/problem';
import { resolveTarget } from '../target';

const STATUS_OPTIONS = { ...GLOBAL_OPTIONS, json: { type: 'boolean' } } as const;

/** `status <event-id>`: one event, as GET /events/{id} tells it. */
export async function statusCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    () => parseArgs({ args: argv, options: STATUS_OPTIONS, allowPositionals: true }),
    'status',
  );
  const [, id, ...rest] = positionals;
  if (!id) throw new CliError('name the event: hr-provisioning status <event-id>');
  noMoreWords(rest, 'status');
  const api = new ApiClient(resolveTarget(values, ctx), ctx);
  const answer = await api.send({ method: 'GET', path: `/events/${encodeURIComponent(id)}` });
  if (answer.status === 404) throw new CliError(`no event "${id}" was ever accepted`);
  if (answer.status !== 200) throw unexpectedAnswer(`reading event "${id}"`, answer);
  const event = answer.body as EventView;
  writeLines(ctx.stdout, values.json ? [JSON.stringify(event, null, 2)] : describeEvent(event));
  return EXIT_OK;
}
