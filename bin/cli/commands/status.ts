import { parseArgs } from 'node:util';
import { GLOBAL_OPTIONS, noMoreWords, parseCommandArgs } from '../arguments';
import { type CliContext, CliError, EXIT_OK } from '../cli-io';
import { ApiClient, type EventView, unexpectedAnswer } from '../http/api-client';
import { resolveTarget } from '../http/target';
import { field, formatTable, printable, writeLines } from '../output';

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

/** `status <id>`: status first, then who and what, then each TrueFoundry call, then the error or note. */
export function describeEvent(event: EventView): string[] {
  const lines = [
    `${field(event.id)}: ${event.status}`,
    `  type       ${event.type}`,
    `  employee   ${field(event.employee.id)} <${field(event.employee.email)}>`,
    `  occurred   ${event.occurredAt}`,
    ...(event.effectiveAt ? [`  effective  ${event.effectiveAt}`] : []),
    ...(event.dueAt && event.status === 'scheduled' ? [`  runs at    ${event.dueAt}`] : []),
    `  attempts   ${event.attempts}`,
    `  source     ${event.source}`,
    `  received   ${event.receivedAt}`,
    `  updated    ${event.updatedAt}`,
  ];
  if (event.steps.length === 0) lines.push('', '  no TrueFoundry call made yet');
  else {
    const rows = event.steps.map((step) => [
      step.key,
      step.action,
      step.email ?? event.employee.email,
      step.outcome,
      step.httpStatus === undefined ? '-' : String(step.httpStatus),
      String(step.attempt),
      step.startedAt,
      `${step.durationMs} ms`,
      step.error ?? '',
    ]);
    const table = formatTable(
      ['STEP', 'ACTION', 'ACCOUNT', 'OUTCOME', 'HTTP', 'ATTEMPT', 'STARTED', 'TOOK', 'ERROR'],
      rows,
    );
    lines.push('', ...table.map((row) => `  ${row}`));
  }
  if (event.error) lines.push('', `  error      ${field(event.error)}`);
  if (event.note) lines.push('', `  note       ${field(event.note)}`);
  // Each entry is one line: a line break or control in a field from the server is escaped, not printed.
  return lines.map(printable);
}
