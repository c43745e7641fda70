import { parseArgs } from 'node:util';
import { GLOBAL_OPTIONS, noMoreWords, parseCommandArgs } from '../arguments';
import { type CliContext, CliError, EXIT_FAILURE, EXIT_OK, readInputFile } from '../cli-io';
import {
  type AcceptedEvent,
  ApiClient,
  type PostEventsAnswer,
  problemOf,
  unexpectedAnswer,
} from '../http/api-client';
import { resolveTarget } from '../http/target';
import { field, writeLines } from '../output';
import { describeIssues, eventRequests, readEventsFile } from '../send/events-file';

/** `send <file>`: canonical events from a JSON or JSON Lines file to POST /events. */
export async function sendCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    () => parseArgs({ args: argv, options: GLOBAL_OPTIONS, allowPositionals: true }),
    'send',
  );
  const [, name, ...rest] = positionals;
  if (!name) throw new CliError('name the file to send: hr-provisioning send <file.json|file.jsonl>');
  noMoreWords(rest, 'send');
  const api = new ApiClient(resolveTarget(values, ctx), ctx);
  const file = await readInputFile(name, ctx.cwd);
  const requests = eventRequests(readEventsFile(name, file.bytes.toString('utf8')), name);

  const accepted: AcceptedEvent[] = [];
  let refusedEvents = 0;
  for (const [index, request] of requests.entries()) {
    const answer = await api.send({
      method: 'POST',
      path: '/events',
      body: request.body,
      contentType: 'application/json',
    });
    if (answer.status === 202) {
      const events = (answer.body as PostEventsAnswer).events;
      writeLines(ctx.stdout, events.map(eventLine));
      accepted.push(...events);
    } else if (answer.status === 400) {
      refusedEvents += request.events.length;
      const lines = request.events.map((e) => e.line);
      const which =
        requests.length > 1
          ? ` (request ${index + 1} of ${requests.length}, lines ${lines[0]}-${lines.at(-1)})`
          : '';
      writeLines(ctx.stderr, [
        `refused${which}: none of its ${request.events.length} event(s) were accepted`,
        ...describeIssues(problemOf(answer.body), request.events),
      ]);
    } else {
      throw unexpectedAnswer(`sending ${name}`, answer);
    }
  }
  writeLines(ctx.stdout, [summary(name, accepted, requests.length)]);
  if (refusedEvents === 0) return EXIT_OK;
  writeLines(ctx.stderr, [
    `${refusedEvents} event(s) were not accepted: fix the lines above and send the file again (accepted events are recognised by their id and not processed twice)`,
  ]);
  return EXIT_FAILURE;
}

const eventLine = (event: AcceptedEvent): string =>
  `${field(event.id)}  ${event.status}${event.duplicate ? '  (duplicate)' : ''}`;

function summary(name: string, accepted: readonly AcceptedEvent[], requests: number): string {
  const duplicates = accepted.filter((e) => e.duplicate).length;
  const requestsText = `${requests} request${requests === 1 ? '' : 's'}`;
  return `${name}: ${accepted.length} event(s) accepted in ${requestsText}: ${accepted.length - duplicates} new, ${duplicates} duplicate(s) of events accepted before`;
}
