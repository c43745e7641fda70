import { randomUUID } from 'node:crypto';
import { EnqueueError } from '../../queue/event-queue';
import { acceptEvents } from '../accept-events';
import { BatchFormatError, type ParsedBatch, parseCsvBatch, parseNdjsonBatch } from '../batch/parse-batch';
import { type IngestRequest, type IngestResponse, json, mediaTypeOf, problem } from '../http';
import type { IngestDeps } from '../ingest-deps';
import { MAX_BATCH_BODY_BYTES, MAX_BATCH_ROWS, mib } from '../limits';
import { serviceUnavailable } from './guards';

const PARSERS: Record<string, (text: string, options: { receivedAt: string }) => ParsedBatch> = {
  'text/csv': parseCsvBatch,
  'application/x-ndjson': parseNdjsonBatch,
  'application/ndjson': parseNdjsonBatch,
  'application/jsonl': parseNdjsonBatch,
};
const BATCH_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * POST /batch: CSV or JSON lines. Valid rows are accepted and invalid ones reported by line; with
 * `?strict=true` one invalid row rejects the whole file. `?batchId=` names the batch (the CLI sends one so
 * a resumed upload keeps its name); otherwise one is made up.
 */
export async function postBatch(request: IngestRequest, deps: IngestDeps): Promise<IngestResponse> {
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
    });
  } catch (error) {
    if (error instanceof BatchFormatError)
      return problem(400, { error: 'malformed_batch', message: error.message });
    throw error;
  }
  const rows = parsed.accepted.length + parsed.rejected.length;
  if (rows > MAX_BATCH_ROWS) {
    return problem(413, {
      error: 'too_many_rows',
      message: `${rows} rows; at most ${MAX_BATCH_ROWS} per request. npx hr-provisioning batch <file> sends a file of any size in chunks`,
    });
  }
  if (strict && parsed.rejected.length > 0) {
    return problem(422, {
      error: 'rejected_rows',
      message: `${parsed.rejected.length} row(s) are invalid and strict mode is on: nothing was accepted`,
      rejected: parsed.rejected,
    });
  }
  try {
    const events = await acceptEvents(
      parsed.accepted.map((row) => row.event),
      `batch:${batchId}`,
      deps,
    );
    const duplicates = events.filter((e) => e.duplicate).length;
    return json(202, {
      batchId,
      accepted: events.length - duplicates,
      duplicates,
      rejected: parsed.rejected,
    });
  } catch (error) {
    if (error instanceof EnqueueError) return serviceUnavailable(error, deps);
    throw error;
  }
}
