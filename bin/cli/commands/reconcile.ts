import { parseArgs } from 'node:util';
import type { AppliedEvent, RefusedEvent } from '../../../functions/core/reconcile/apply';
import type { ReconcileReport } from '../../../functions/core/reconcile/compare';
import { GLOBAL_OPTIONS, noMoreWords, parseCommandArgs } from '../arguments';
import { type CliContext, CliError, EXIT_OK, readInputFile } from '../cli-io';
import { ApiClient, problemOf, unexpectedAnswer } from '../http/api-client';
import { resolveTarget } from '../http/target';
import { field, writeLines } from '../output';

const RECONCILE_OPTIONS = {
  ...GLOBAL_OPTIONS,
  apply: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** What POST /reconcile answers (ingest/routes/reconcile.ts): the report, and with apply what it submitted. */
type ReconcileAnswer = ReconcileReport & { applied?: AppliedEvent[]; refused?: RefusedEvent[] };

/**
 * `reconcile ROSTER.csv [--apply] [--json]`: the roster to POST /reconcile on the runtime or stack the CLI
 * targets, so TrueFoundry's credentials stay where they are. Prints the report; with --apply, also the
 * events submitted to converge TrueFoundry.
 */
export async function reconcileCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    () => parseArgs({ args: argv, options: RECONCILE_OPTIONS, allowPositionals: true }),
    'reconcile',
  );
  const [, name, ...rest] = positionals;
  if (!name) throw new CliError('name the roster: hr-provisioning reconcile <roster.csv> [--apply]');
  noMoreWords(rest, 'reconcile');
  const roster = await readInputFile(name, ctx.cwd);
  const apply = values.apply === true;
  const answer = await new ApiClient(resolveTarget(values, ctx), ctx).send({
    method: 'POST',
    path: '/reconcile',
    query: { apply: String(apply) },
    body: roster.bytes.toString('utf8'),
    contentType: 'text/csv',
    operator: true,
    // A report is a read and may be asked again; an apply that reached the server must not run twice.
    retry: !apply,
  });
  if (answer.status === 400 && Array.isArray((answer.body as { rejected?: unknown }).rejected)) {
    const { message, rejected = [] } = problemOf(answer.body);
    throw new CliError(
      [
        `${name}: ${message ?? 'the roster is invalid'}`,
        ...rejected.map((r) => `  line ${r.line}: ${r.error}`),
      ].join('\n'),
    );
  }
  if (answer.status === 404) {
    throw new CliError('this API has no POST /reconcile route: update the deployment or the local runtime');
  }
  if (answer.status !== 200) throw unexpectedAnswer('reconciling the roster', answer);
  const report = answer.body as ReconcileAnswer;
  if (values.json) {
    writeLines(ctx.stdout, [JSON.stringify(report, null, 2)]);
    return EXIT_OK;
  }
  writeLines(ctx.stdout, readable(report, apply));
  return EXIT_OK;
}

/** The report in sections, each with its count; an empty section says `none`. */
function readable(report: ReconcileAnswer, apply: boolean): string[] {
  const section = (title: string, lines: string[]) => [
    `${title} (${lines.length})`,
    ...(lines.length > 0 ? lines.map((line) => `  ${line}`) : ['  none']),
  ];
  return [
    ...section(
      'missing: on the roster, without access',
      report.missing.map((m) => `${field(m.email)}  ${field(m.reason)}`),
    ),
    ...section(
      'orphans: active in TrueFoundry, not on the roster',
      report.orphans.map((o) => `${field(o.email)}  roles: ${o.roles.map(field).join(', ') || 'none'}`),
    ),
    ...section(
      'role drift',
      report.roleDrift.map(
        (d) =>
          `${field(d.email)}  ${field(d.resourceType)}: want ${d.want.map(field).join(', ') || 'none'}, have ${d.have.map(field).join(', ') || 'none'}`,
      ),
    ),
    ...section('ignored (RECONCILE_IGNORE)', report.ignored.map(field)),
    ...(apply
      ? [
          ...section(
            'applied: events submitted',
            (report.applied ?? []).map((a) => `${field(a.id)}  ${a.type} ${field(a.email)}`),
          ),
          ...section(
            'refused',
            (report.refused ?? []).map((r) => `${r.type} ${field(r.email)}: ${field(r.reason)}`),
          ),
          'follow them with: hr-provisioning status <event-id>',
        ]
      : []),
  ];
}
