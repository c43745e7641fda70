import { EnqueueError } from '../../queue/event-queue';
import { applyComparison, reconcileRunId } from '../../reconcile/apply';
import { compareRoster, listEveryUser } from '../../reconcile/compare';
import { ignoreMatcher } from '../../reconcile/ignore';
import { parseRoster } from '../../reconcile/roster';
import { TrueFoundryError } from '../../truefoundry/errors';
import { serviceUnavailable } from '../accept-events';
import { BatchFormatError } from '../batch';
import {
  type IngestRequest,
  type IngestResponse,
  json,
  MAX_BATCH_BODY_BYTES,
  mediaTypeOf,
  mib,
  problem,
} from '../http';
import type { IngestDeps } from '../ingest-deps';

/*
 * POST /reconcile (`operator`): the roster (text/csv, the batch columns) against TrueFoundry's users, every
 * page, deactivated ones included. Answers the report; with `?apply=true` it also submits the events that
 * converge (reconcile/apply.ts) and lists them under `applied` (and what the policy refused under `refused`).
 * Nothing is submitted unless the whole roster is valid.
 */

export const RECONCILE_MEDIA_TYPE = 'text/csv';

export async function postReconcile(request: IngestRequest, deps: IngestDeps): Promise<IngestResponse> {
  if (request.body.length > MAX_BATCH_BODY_BYTES) {
    return problem(413, {
      error: 'body_too_large',
      message: `the roster is ${request.body.length} bytes; at most ${mib(MAX_BATCH_BODY_BYTES)}`,
    });
  }
  const type = mediaTypeOf(request);
  if (type !== RECONCILE_MEDIA_TYPE) {
    return problem(415, {
      error: 'unsupported_media_type',
      message: `send the roster as Content-Type: text/csv (got ${type ?? 'none'})`,
      allowed: [RECONCILE_MEDIA_TYPE],
    });
  }
  const applyParam = request.query.apply;
  if (applyParam !== undefined && applyParam !== 'true' && applyParam !== 'false') {
    return problem(400, { error: 'invalid_query', message: 'apply must be true or false' });
  }
  const apply = applyParam === 'true';
  if (!deps.trueFoundry) {
    return problem(501, {
      error: 'not_implemented',
      message: 'this deployment has no TrueFoundry access for ingest, so it cannot reconcile',
    });
  }

  const nowMs = (deps.now ?? Date.now)();
  let roster: ReturnType<typeof parseRoster>;
  try {
    roster = parseRoster(request.body.toString('utf8'), new Date(nowMs).toISOString(), deps.policy);
  } catch (error) {
    if (error instanceof BatchFormatError)
      return problem(400, { error: 'malformed_roster', message: error.message });
    throw error;
  }
  if (roster.rejected.length > 0) {
    return problem(400, {
      error: 'invalid_roster',
      message: `${roster.rejected.length} row(s) of the roster are invalid: nothing was compared or applied`,
      rejected: roster.rejected.sort((a, b) => a.line - b.line),
    });
  }
  // An empty roster would call every active account an orphan, and applied, offboard them all.
  if (roster.entries.length === 0) {
    return problem(400, {
      error: 'empty_roster',
      message: 'the roster lists nobody; a roster is everyone who should have access',
    });
  }

  let users: Awaited<ReturnType<typeof listEveryUser>>;
  try {
    users = await listEveryUser(deps.trueFoundry.api);
  } catch (error) {
    if (!(error instanceof TrueFoundryError)) throw error;
    deps.log?.warn('reconcile could not list TrueFoundry users', {
      status: error.status,
      reason: error.name,
    });
    return problem(502, {
      error: 'truefoundry_unavailable',
      message: `TrueFoundry's user list could not be read (${error.name}${error.status ? ` ${error.status}` : ''}); retry later`,
    });
  }
  const comparison = compareRoster(roster.entries, users, {
    roleMapping: deps.trueFoundry.config.roleMapping,
    ignore: ignoreMatcher(deps.reconcile?.ignore ?? []),
  });
  if (!apply) return json(200, comparison.report);

  try {
    const outcome = await applyComparison(comparison, reconcileRunId(request.body, nowMs), {
      store: deps.store,
      queue: deps.queue,
      // Its events are accepted as POST /events accepts them: durable before the answer.
      ...(deps.unitOfWork ? { unitOfWork: deps.unitOfWork } : {}),
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.policy ? { policy: deps.policy } : {}),
      ...(deps.reconcile?.ownerOf ? { ownerOf: deps.reconcile.ownerOf } : {}),
      ...(deps.log ? { log: deps.log } : {}),
    });
    return json(200, { ...comparison.report, ...outcome });
  } catch (error) {
    if (error instanceof EnqueueError) return serviceUnavailable(error, deps);
    throw error;
  }
}
