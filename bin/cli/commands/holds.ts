import { parseArgs } from 'node:util';
import type {
  HeldEventView,
  RejectReport,
  ReleaseReport,
} from '../../../functions/core/holds/holds-operator';
import { GLOBAL_OPTIONS, parseCommandArgs } from '../arguments';
import { type CliContext, CliError, EXIT_FAILURE, EXIT_OK } from '../cli-io';
import { type ApiAnswer, ApiClient, unexpectedAnswer } from '../http/api-client';
import { resolveTarget } from '../http/target';
import { clip, field, formatTable, writeLines } from '../output';

const HOLDS_OPTIONS = {
  ...GLOBAL_OPTIONS,
  all: { type: 'boolean' },
  id: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

/**
 * `holds list | release (--all | --id ID…) | reject --id ID…`: the offboarding guard's held events
 * (GET /holds, POST /holds/release, POST /holds/reject). Exit code 1 when an id was not held, was blocked
 * behind an earlier held event of its person, or could not be enqueued again: a script must notice.
 */
export async function holdsCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    () => parseArgs({ args: argv, options: HOLDS_OPTIONS, allowPositionals: true }),
    'holds',
  );
  const [, action, ...extra] = positionals;
  if (extra.length > 0)
    throw new CliError(`holds: unexpected "${extra[0]}" (see: hr-provisioning holds --help)`);
  const ids = values.id ?? [];
  const api = new ApiClient(resolveTarget(values, ctx), ctx);
  switch (action) {
    case 'list': {
      if (values.all || ids.length > 0) throw new CliError('holds list takes no --all or --id');
      const answer = await api.send({ method: 'GET', path: '/holds' });
      return printList(
        checked(answer, 'listing held events') as { holds: HeldEventView[] },
        values.json,
        ctx,
      );
    }
    case 'release': {
      if (Boolean(values.all) === ids.length > 0)
        throw new CliError('holds release takes --all, or --id <event-id> (repeatable)');
      const answer = await post(api, '/holds/release', values.all ? { all: true } : { ids });
      return printRelease(checked(answer, 'releasing held events') as ReleaseReport, values.json, ctx);
    }
    case 'reject': {
      if (values.all || ids.length === 0)
        throw new CliError('holds reject takes --id <event-id> (repeatable); there is no --all');
      const answer = await post(api, '/holds/reject', { ids });
      return printReject(checked(answer, 'rejecting held events') as RejectReport, values.json, ctx);
    }
    default:
      throw new CliError('holds takes list, release or reject (see: hr-provisioning holds --help)');
  }
}

const post = (api: ApiClient, path: string, body: unknown) =>
  // No retry: a repeat of a release would find the events queued and answer them as not held.
  api.send({
    method: 'POST',
    path,
    body: JSON.stringify(body),
    contentType: 'application/json',
    operator: true,
    retry: false,
  });

function checked(answer: ApiAnswer, action: string): unknown {
  if (answer.status === 404)
    throw new CliError('this API has no /holds routes: update the deployment or the local runtime');
  if (answer.status !== 200) throw unexpectedAnswer(action, answer);
  return answer.body;
}

function printList(answer: { holds: HeldEventView[] }, json: boolean | undefined, ctx: CliContext): number {
  if (json) {
    writeLines(ctx.stdout, [JSON.stringify(answer, null, 2)]);
    return EXIT_OK;
  }
  if (answer.holds.length === 0) {
    writeLines(ctx.stdout, ['no held events']);
    return EXIT_OK;
  }
  const rows = answer.holds.map((h) => [
    h.id,
    h.type,
    h.person,
    h.email,
    h.occurredAt,
    h.heldAt,
    clip(h.reason, 80),
  ]);
  writeLines(ctx.stdout, formatTable(['ID', 'TYPE', 'PERSON', 'EMAIL', 'OCCURRED', 'HELD', 'REASON'], rows));
  return EXIT_OK;
}

function printRelease(report: ReleaseReport, json: boolean | undefined, ctx: CliContext): number {
  if (json) writeLines(ctx.stdout, [JSON.stringify(report, null, 2)]);
  else {
    writeLines(ctx.stdout, [
      `released ${report.released.length}: ${report.released.map(field).join(', ') || '-'}`,
      ...report.blocked.map(
        (b) => `blocked ${field(b.id)}: behind ${field(b.behind)}, an earlier held event of the same person`,
      ),
      ...report.failed.map((f) => `failed ${field(f.id)}: ${field(f.reason)}`),
      ...report.notHeld.map((id) => `not held: ${field(id)}`),
    ]);
  }
  return report.blocked.length + report.failed.length + report.notHeld.length > 0 ? EXIT_FAILURE : EXIT_OK;
}

function printReject(report: RejectReport, json: boolean | undefined, ctx: CliContext): number {
  if (json) writeLines(ctx.stdout, [JSON.stringify(report, null, 2)]);
  else {
    writeLines(ctx.stdout, [
      `rejected ${report.rejected.length}: ${report.rejected.map(field).join(', ') || '-'}`,
      ...report.notHeld.map((id) => `not held: ${field(id)}`),
    ]);
  }
  return report.notHeld.length > 0 ? EXIT_FAILURE : EXIT_OK;
}
