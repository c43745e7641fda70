import { randomUUID } from 'node:crypto';
import { EnqueueError } from '../../queue/event-queue';
import {
  acceptEvents,
  type ConflictCheck,
  findIdConflicts,
  idConflictCheck,
  serviceUnavailable,
} from '../accept-events';
import {
  BatchFormatError,
  type BatchParseOptions,
  type BatchRow,
  type ParsedBatch,
  type RejectedRow,
} from '../batch';
import { parseCsvBatch } from '../csv';
import {
  type IngestRequest,
  type IngestResponse,
  json,
  MAX_BATCH_BODY_BYTES,
  MAX_BATCH_ROWS,
  mediaTypeOf,
  mib,
  problem,
} from '../http';
import type { IngestDeps } from '../ingest-deps';
import { parseNdjsonBatch } from '../ndjson';
import { withPolicyApplied } from '../policy-refusals';
import { dryRunOf, previewAnswer, previewUnavailable } from '../preview-response';

const PARSERS: Record<string, (text: string, options: BatchParseOptions) => ParsedBatch> = {
  'text/csv': parseCsvBatch,
  'application/x-ndjson': parseNdjsonBatch,
  'application/ndjson': parseNdjsonBatch,
  'application/jsonl': parseNdjsonBatch,
};
const BATCH_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * POST /batch: CSV or JSON lines. Valid rows are accepted and invalid ones reported by line; with
 * `?strict=true` one invalid row rejects the whole file. `?batchId=` names the batch (the CLI sends one so
 * a resumed upload keeps its name, and its rows their derived ids); otherwise one is made up. A row whose
 * id is already recorded for another source or a different event is rejected like an invalid row.
 * `?dryRun=true` previews the valid rows instead (preview-response.ts): nothing recorded, enqueued or written.
 */
export async function postBatch(request: IngestRequest, deps: IngestDeps): Promise<IngestResponse> {
  // `?dryRun=true`: the same parsing, validation and refusals, then a preview instead of accepting.
  const dryRun = dryRunOf(request);
  if (typeof dryRun !== 'boolean') return dryRun;
  const unavailable = dryRun ? previewUnavailable(deps) : undefined;
  if (unavailable) return unavailable;
  if (request.body.length > MAX_BATCH_BODY_BYTES) {
    return problem(413, {
      error: 'body_too_large',
      message: `the file is ${request.body.length} bytes; at most ${mib(MAX_BATCH_BODY_BYTES)} per request. Send it in chunks: npx hr-provisioning batch <file> does it for you`,
    });
  }
  const type = mediaTypeOf(request);
  // Own keys only: a Content-Type such as `constructor` or `__proto__` must not find Object.prototype's members.
  const parse = type !== undefined && Object.hasOwn(PARSERS, type) ? PARSERS[type] : undefined;
  if (!parse) {
    return problem(415, {
      error: 'unsupported_media_type',
      message: `send Content-Type: text/csv or application/x-ndjson (got ${type ?? 'none'})`,
      allowed: Object.keys(PARSERS),
    });
  }
  const batchId = request.query.batchId ?? `batch-${randomUUID()}`;
  if (!BATCH_ID.test(batchId)) {
    return problem(400, {
      error: 'invalid_query',
      message: 'batchId must be 1-64 letters, digits, dots, dashes or underscores',
    });
  }
  const strict = /^(1|true|yes)$/i.test(request.query.strict ?? '');

  let parsed: ParsedBatch;
  try {
    parsed = parse(request.body.toString('utf8'), {
      receivedAt: new Date((deps.now ?? Date.now)()).toISOString(),
      batchId,
    });
  } catch (error) {
    if (error instanceof BatchFormatError)
      return problem(400, { error: 'malformed_batch', message: error.message });
    throw error;
  }
  const rowCount = parsed.accepted.length + parsed.rejected.length;
  if (rowCount > MAX_BATCH_ROWS) {
    return problem(413, {
      error: 'too_many_rows',
      message: `${rowCount} rows; at most ${MAX_BATCH_ROWS} per request. npx hr-provisioning batch <file> sends a file of any size in chunks`,
    });
  }
  const source = `batch:${batchId}`;
  // Rows the policy refuses are rejected by their line, like invalid ones (and refuse the file in strict mode).
  parsed = withPolicyApplied(parsed, source, deps.policy);
  const check = idConflictCheck(source, parsed.accepted);
  if (dryRun) return previewBatch(parsed, check, strict, deps);
  // Strict mode must find conflicts before recording anything; otherwise recording finds them (an id
  // already recorded is left as it is), which saves a read per row.
  const known = strict
    ? await findIdConflicts(
        parsed.accepted.map((row) => row.event),
        check,
        deps.store,
      )
    : new Map<string, string>();
  if (strict && parsed.rejected.length + known.size > 0) {
    const rejected = byLine([...parsed.rejected, ...conflictsOf(parsed.accepted, known)]);
    return problem(422, {
      error: 'rejected_rows',
      message: `${rejected.length} row(s) were rejected and strict mode is on: nothing was accepted`,
      rejected,
    });
  }
  try {
    const events = await acceptEvents(
      parsed.accepted.map((row) => row.event),
      source,
      deps,
      check,
    );
    const conflicts = new Map(events.flatMap((e) => (e.conflict === undefined ? [] : [[e.id, e.conflict]])));
    const duplicates = events.filter((e) => e.duplicate).length;
    return json(202, {
      batchId,
      accepted: events.length - duplicates - conflicts.size,
      duplicates,
      rejected: byLine([...parsed.rejected, ...conflictsOf(parsed.accepted, conflicts)]),
    });
  } catch (error) {
    if (error instanceof EnqueueError) return serviceUnavailable(error, deps);
    throw error;
  }
}

/**
 * The preview of a parsed batch: rows whose id is already recorded for something else are rejected as the
 * real upload would (read, never written); in strict mode any rejected row refuses the file, as it does.
 */
async function previewBatch(
  parsed: ParsedBatch,
  check: ConflictCheck,
  strict: boolean,
  deps: IngestDeps,
): Promise<IngestResponse> {
  const known = await findIdConflicts(
    parsed.accepted.map((row) => row.event),
    check,
    deps.store,
  );
  const rejected = byLine([...parsed.rejected, ...conflictsOf(parsed.accepted, known)]);
  if (strict && rejected.length > 0) {
    return problem(422, {
      error: 'rejected_rows',
      message: `${rejected.length} row(s) were rejected and strict mode is on: nothing would be accepted`,
      rejected,
    });
  }
  const rows = parsed.accepted.filter((row) => !known.has(row.event.id));
  return previewAnswer(rows, rejected, deps);
}

function conflictsOf(rows: readonly BatchRow[], conflicts: ReadonlyMap<string, string>): RejectedRow[] {
  return rows.flatMap((row) => {
    const error = conflicts.get(row.event.id);
    return error === undefined ? [] : [{ line: row.line, error }];
  });
}

const byLine = (rows: RejectedRow[]): RejectedRow[] => rows.sort((a, b) => a.line - b.line);
