import { type EventPlan, previewEvents, summarise } from '../engine/preview';
import type { CanonicalEvent } from '../events/canonical-event';
import { TrueFoundryError } from '../truefoundry/errors';
import { type IngestRequest, type IngestResponse, json, problem } from './http';
import type { IngestDeps } from './ingest-deps';

/*
 * The dry-run half of POST /events and POST /batch (`?dryRun=true`): after the route's own parsing,
 * validation and policy refusals, the events are planned (engine/preview.ts) instead of accepted. Nothing is
 * recorded (no sequence reserved), nothing enqueued, nothing written to TrueFoundry.
 */

/**
 * Events one preview plans at most: each takes one TrueFoundry read at the tenant's rate, and the answer must
 * come inside API Gateway's 29 s. `hr-provisioning batch FILE --dry-run` sends bigger files in chunks.
 */
export const MAX_PREVIEW_EVENTS = 200;

/** `?dryRun=`: true, false or absent; anything else is a 400 naming the parameter. */
export function dryRunOf(request: IngestRequest): boolean | IngestResponse {
  const value = request.query.dryRun;
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return problem(400, { error: 'invalid_query', message: 'dryRun must be true or false' });
}

type TrueFoundryAccess = NonNullable<IngestDeps['trueFoundry']>;

/** The 501 of a deployment whose ingest has no TrueFoundry access; undefined when it has. */
export function previewUnavailable(deps: IngestDeps): IngestResponse | undefined {
  return deps.trueFoundry
    ? undefined
    : problem(501, {
        error: 'not_implemented',
        message: 'this deployment has no TrueFoundry access for ingest, so it cannot preview (dryRun)',
      });
}

/** TrueFoundry to plan against, or why not: no access (501), or more events than one preview plans (413). */
function previewAccess(deps: IngestDeps, count: number): TrueFoundryAccess | IngestResponse {
  if (!deps.trueFoundry) return previewUnavailable(deps) as IngestResponse;
  if (count > MAX_PREVIEW_EVENTS) {
    return problem(413, {
      error: 'too_many_events',
      message: `${count} events; a preview plans at most ${MAX_PREVIEW_EVENTS} per request. npx hr-provisioning batch <file> --dry-run sends a file of any size in chunks`,
    });
  }
  return deps.trueFoundry;
}

/** An event to plan and, for a batch row, its line. */
export type PreviewItem = { event: CanonicalEvent; line?: number };
export type PreviewPlan = { line?: number } & EventPlan;
export type PreviewRejection = { line?: number; id?: string; error: string };

/**
 * Plans the items and answers 200 with the plans, the rejections (the route's own, then those the worker's
 * policy would refuse), and the summary; 502 when TrueFoundry cannot be read.
 */
export async function previewAnswer(
  items: readonly PreviewItem[],
  rejected: readonly PreviewRejection[],
  deps: IngestDeps,
): Promise<IngestResponse> {
  const access = previewAccess(deps, items.length);
  if ('status' in access) return access;
  let previews: Awaited<ReturnType<typeof previewEvents>>;
  try {
    previews = await previewEvents(
      items.map((item) => item.event),
      access,
    );
  } catch (error) {
    if (!(error instanceof TrueFoundryError)) throw error;
    deps.log?.warn('a preview could not read TrueFoundry', { status: error.status, reason: error.name });
    return problem(502, {
      error: 'truefoundry_unavailable',
      message: `TrueFoundry could not be read (${error.name}${error.status ? ` ${error.status}` : ''}); nothing was planned, retry later`,
    });
  }
  const plans: PreviewPlan[] = [];
  const refusedByWorker: PreviewRejection[] = [];
  previews.forEach((preview, index) => {
    const line = items[index]?.line;
    const at = line === undefined ? {} : { line };
    if ('plan' in preview) plans.push({ ...at, ...preview.plan });
    else refusedByWorker.push({ ...at, id: preview.id, error: preview.refused });
  });
  const allRejected = [...rejected, ...refusedByWorker].sort(
    (a, b) => (a.line ?? Number.POSITIVE_INFINITY) - (b.line ?? Number.POSITIVE_INFINITY),
  );
  return json(200, { dryRun: true, plans, rejected: allRejected, summary: summarise(plans) });
}
