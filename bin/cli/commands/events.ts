import { parseArgs } from 'node:util';
import { EVENT_STATUSES } from '../../../functions/core/engine/ports';
import { GLOBAL_OPTIONS, noMoreWords, parseCommandArgs, wholeNumber } from '../arguments';
import { type CliContext, CliError, EXIT_OK } from '../cli-io';
import { ApiClient, type EventPageAnswer, type EventView, unexpectedAnswer } from '../http/api-client';
import { resolveTarget } from '../http/target';
import { clip, formatTable, writeLines } from '../output';

const EVENTS_OPTIONS = {
  ...GLOBAL_OPTIONS,
  status: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The API's own page limit. */
const MAX_PAGE = 500;

/** `events`: a table of events, following the API's cursors up to --limit. */
export async function eventsCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    () => parseArgs({ args: argv, options: EVENTS_OPTIONS, allowPositionals: true }),
    'events',
  );
  noMoreWords(positionals.slice(1), 'events');
  const status = values.status;
  if (status !== undefined && !(EVENT_STATUSES as readonly string[]).includes(status)) {
    throw new CliError(`--status must be one of ${EVENT_STATUSES.join(', ')} (got "${status}")`);
  }
  const limit = wholeNumber(values.limit, 'limit', { min: 1, max: 100_000, fallback: 50 });
  const api = new ApiClient(resolveTarget(values, ctx), ctx);

  const events: EventView[] = [];
  let cursor: string | undefined;
  do {
    const answer = await api.send({
      method: 'GET',
      path: '/events',
      query: { status, limit: String(Math.min(limit - events.length, MAX_PAGE)), cursor },
    });
    if (answer.status !== 200) throw unexpectedAnswer('listing events', answer);
    const page = answer.body as EventPageAnswer;
    events.push(...page.events);
    cursor = page.cursor;
  } while (cursor && events.length < limit);

  if (values.json) {
    writeLines(ctx.stdout, [JSON.stringify({ events, ...(cursor ? { cursor } : {}) }, null, 2)]);
    return EXIT_OK;
  }
  if (events.length === 0) {
    writeLines(ctx.stdout, [status ? `no ${status} events` : 'no events']);
    return EXIT_OK;
  }
  const rows = events.map((e) => [
    e.id,
    e.status,
    e.type,
    e.employee.email,
    String(e.attempts),
    e.updatedAt,
    clip(e.error ?? '', 80),
  ]);
  writeLines(
    ctx.stdout,
    formatTable(['ID', 'STATUS', 'TYPE', 'EMAIL', 'ATTEMPTS', 'UPDATED', 'ERROR'], rows),
  );
  if (cursor) writeLines(ctx.stdout, [`(the first ${events.length}; there are more: raise --limit)`]);
  return EXIT_OK;
}
