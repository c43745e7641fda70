import { ValidationError } from '../../events/validation-issues';
import { EnqueueError } from '../../queue/event-queue';
import { acceptEvents, idConflictCheck, serviceUnavailable } from '../accept-events';
import { cancelPending } from '../bamboohr/cancel-pending';
import { BambooHrApiError, type BambooHrDirectory, HttpBambooHrDirectory } from '../bamboohr/directory';
import { verifyBambooHrSignature } from '../bamboohr/signature';
import { type BambooHrCancellation, mapBambooHrWebhook } from '../bamboohr/webhook';
import {
  type IngestRequest,
  type IngestResponse,
  json,
  MAX_WEBHOOK_BODY_BYTES,
  mib,
  problem,
  requireJson,
  requireSize,
} from '../http';
import type { IngestDeps } from '../ingest-deps';
import { policyRefusalsOf, reasonOf } from '../policy-refusals';
import { readJson } from '../read-json';

const SOURCE = 'bamboohr';

/** POST /webhooks/bamboohr: BambooHR global (field-based) webhooks, authenticated by their own signature. */
export async function postBamboohr(request: IngestRequest, deps: IngestDeps): Promise<IngestResponse> {
  const refused =
    requireSize(request, MAX_WEBHOOK_BODY_BYTES, `at most ${mib(MAX_WEBHOOK_BODY_BYTES)} per delivery`) ??
    requireJson(request);
  if (refused) return refused;
  const credentials = await deps.credentials();
  if (!credentials.bamboohrWebhookKey) {
    return problem(401, {
      error: 'unauthorized',
      message: 'BambooHR webhooks are not configured on this deployment',
    });
  }
  const now = (deps.now ?? Date.now)();
  const signature = verifyBambooHrSignature({
    rawBody: request.body,
    signature: request.headers['x-bamboohr-signature'],
    timestamp: request.headers['x-bamboohr-timestamp'],
    privateKey: credentials.bamboohrWebhookKey,
    nowMs: now,
  });
  if (!signature.ok) return problem(401, { error: 'unauthorized', message: signature.reason });

  const body = readJson(request.body.toString('utf8'));
  if (!body.ok) return problem(400, { error: 'malformed_json', message: body.message });
  try {
    const directory = directoryFor(deps, credentials.bamboohrApiKey);
    const mapped = await mapBambooHrWebhook(body.value, {
      receivedAt: new Date(now).toISOString(),
      ...(deps.bamboohr?.labels ? { labels: deps.bamboohr.labels } : {}),
      ...(deps.bamboohr?.timeZone ? { timeZone: deps.bamboohr.timeZone } : {}),
      ...(directory ? { directory } : {}),
    });
    // Every BambooHR id is derived from the delivery, so an id already recorded is a redelivery, unless
    // another source recorded it (only possible before `bamboohr-` ids were reserved). Such an entry is
    // skipped, not refused: BambooHR would redeliver a refused delivery as it is, again and again.
    // An entry the policy refuses (a domain not allowed, a protected account) is skipped with the reason.
    const refusals = policyRefusalsOf(mapped.events, SOURCE, deps.policy);
    const refused = new Set(refusals.map((r) => r.event.id));
    const allowed = mapped.events.filter((event) => !refused.has(event.id));
    const byPolicy = refusals.map((r) => ({
      employeeId: mapped.entryIds.get(r.event.id) ?? '',
      reason: reasonOf(r),
    }));
    // A date removed or moved cancels the pending event it scheduled, before the new one is accepted; not
    // when the policy refused the new one, which would leave the person with nothing scheduled.
    const cancellations = mapped.cancellations.filter((c) => c.keep === undefined || !refused.has(c.keep));
    const { cancelled, uncancelled } = await cancelFor(cancellations, deps);
    const check = idConflictCheck(
      SOURCE,
      allowed.map((event) => ({ event, derivedId: true })),
    );
    const answers = allowed.length > 0 ? await acceptEvents(allowed, SOURCE, deps, check) : [];
    const conflicts = answers.flatMap(({ id, conflict }) =>
      conflict === undefined ? [] : [{ employeeId: mapped.entryIds.get(id) ?? '', reason: conflict }],
    );
    return json(202, {
      events: answers.filter((answer) => answer.conflict === undefined),
      cancelled,
      skipped: [...mapped.skipped, ...byPolicy, ...conflicts, ...uncancelled],
    });
  } catch (error) {
    if (error instanceof ValidationError) {
      return problem(400, { error: 'invalid_webhook', message: error.message, issues: error.issues });
    }
    if (error instanceof EnqueueError) return serviceUnavailable(error, deps);
    if (error instanceof BambooHrApiError && error.isTransient()) {
      // BambooHR retries a failed delivery; stable event ids make the retry safe.
      return problem(503, { error: 'bamboohr_unavailable', message: error.message }, { 'retry-after': '30' });
    }
    throw error;
  }
}

/**
 * Runs the cancellations. An app wired without cancelling (both runtimes have it; some tests do not) reports
 * the entries that were only a cancellation as skipped, so that an operator cancels by hand, and warns: a
 * moved date's old event stays scheduled next to the new one.
 */
async function cancelFor(
  cancellations: readonly BambooHrCancellation[],
  deps: IngestDeps,
): Promise<{ cancelled: string[]; uncancelled: { employeeId: string; reason: string }[] }> {
  if (cancellations.length === 0) return { cancelled: [], uncancelled: [] };
  if (deps.schedule) {
    return { cancelled: await cancelPending(cancellations, SOURCE, deps.schedule), uncancelled: [] };
  }
  deps.log?.warn('BambooHR dates changed but this deployment cannot cancel scheduled events', {
    cancellations: cancellations.length,
  });
  const uncancelled = cancellations
    .filter((c) => c.keep === undefined)
    .map((c) => ({
      employeeId: c.employeeId,
      reason: `${c.by}: this deployment cannot cancel scheduled events; cancel the pending ${c.type} by hand`,
    }));
  return { cancelled: [], uncancelled };
}

function directoryFor(deps: IngestDeps, apiKey: string | undefined): BambooHrDirectory | undefined {
  const options = deps.bamboohr;
  if (options?.directory) return options.directory;
  if (!options?.companyDomain || !apiKey) return undefined;
  return new HttpBambooHrDirectory({
    companyDomain: options.companyDomain,
    apiKey,
    ...(options.apiBaseUrl ? { baseUrl: options.apiBaseUrl } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
  });
}
