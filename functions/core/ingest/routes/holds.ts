import * as z from 'zod';
import { describeIssue, issuesOf } from '../../events/validation-issues';
import { type IngestRequest, type IngestResponse, json, problem, requireJson } from '../http';
import type { IngestDeps } from '../ingest-deps';
import { readJson } from '../read-json';

/*
 * The offboarding guard's operator routes (`operator` auth: the bearer token, or IAM on AWS, where the
 * operator λ serves them): GET /holds, POST /holds/release, POST /holds/reject (core/holds/holds-operator.ts).
 */

/** A request names at most this many events; `{"all": true}` releases any number. */
const MAX_IDS = 500;

const ids = z
  .array(
    z.string().min(1, { error: 'must not be empty' }).max(256, { error: 'must be at most 256 characters' }),
    {
      error: 'must be a list of event ids',
    },
  )
  .min(1, { error: 'must name at least one event id' })
  .max(MAX_IDS, { error: `must name at most ${MAX_IDS} event ids` });

const idsBody = z.strictObject({ ids });
const allBody = z.strictObject({ all: z.literal(true, { error: 'must be true' }) });
/**
 * The release body's shape is picked by its keys rather than with a zod union, which reports a mismatch as
 * one issue at the root: a caller is better served by the field at fault.
 */
const releaseBody = (value: unknown): z.ZodType<{ ids: string[] } | { all: true }> =>
  typeof value === 'object' && value !== null && 'all' in value ? allBody : idsBody;

const notWired = () =>
  problem(501, { error: 'not_implemented', message: 'this deployment has no offboarding guard to operate' });

/** GET /holds */
export async function getHolds(deps: IngestDeps): Promise<IngestResponse> {
  if (!deps.holds) return notWired();
  return json(200, { holds: await deps.holds.list() });
}

/** POST /holds/release with {"ids": [...]} or {"all": true} */
export async function postHoldsRelease(request: IngestRequest, deps: IngestDeps): Promise<IngestResponse> {
  if (!deps.holds) return notWired();
  const body = parseBody(request, releaseBody, 'send {"ids": ["…"]} or {"all": true}');
  if ('response' in body) return body.response;
  return json(200, await deps.holds.release(body.value));
}

/** POST /holds/reject with {"ids": [...]} */
export async function postHoldsReject(request: IngestRequest, deps: IngestDeps): Promise<IngestResponse> {
  if (!deps.holds) return notWired();
  const body = parseBody(request, () => idsBody, 'send {"ids": ["…"]}');
  if ('response' in body) return body.response;
  return json(200, await deps.holds.reject(body.value.ids));
}

function parseBody<T>(
  request: IngestRequest,
  schemaFor: (value: unknown) => z.ZodType<T>,
  shape: string,
): { value: T } | { response: IngestResponse } {
  const refused = requireJson(request);
  if (refused) return { response: refused };
  const body = readJson(request.body.toString('utf8'));
  if (!body.ok) return { response: problem(400, { error: 'malformed_json', message: body.message }) };
  const parsed = schemaFor(body.value).safeParse(body.value);
  if (parsed.success) return { value: parsed.data };
  const issues = issuesOf(parsed.error);
  return {
    response: problem(400, {
      error: 'invalid_body',
      message: `${shape}: ${issues.map(describeIssue).join('; ')}`,
      issues,
    }),
  };
}
