import type { ValidationIssue } from '../events/validation-issues';

/*
 * What every route speaks: the request and response as the front doors hand them over, the error body of
 * every refusal, the body limits, and the checks on size and media type the routes start with.
 */

/** An HTTP request as every front door (API Gateway v1/v2, the local server) hands it to the ingest app. */
export type IngestRequest = {
  method: string;
  /** Path without any API Gateway stage prefix, e.g. `/events/evt-1`. */
  path: string;
  query: Record<string, string | undefined>;
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  /** The raw bytes: signatures are computed over them. */
  body: Buffer;
  /**
   * Set by a front door that saw IAM identity on the request (API Gateway on AWS). Honoured on `operator`
   * routes only, the IAM routes; ignored everywhere else (authenticate.ts).
   */
  gatewayAuthorized?: boolean;
};

export type IngestResponse = { status: number; headers: Record<string, string>; body: string };

/** Error body of every non-2xx answer: a stable code, a sentence, and the exact places that are wrong. */
export type ErrorBody = {
  error: string;
  message: string;
  issues?: (ValidationIssue & { event?: number })[];
  rejected?: { line: number; error: string }[];
  allowed?: readonly string[];
  /** Events the queue refused as invalid, each with the queue's reason. */
  events?: { id: string; error: string }[];
  /** The status of the event a request could not change (DELETE /events/{id} of one that ran). */
  status?: string;
};

export function json(status: number, body: unknown, headers: Record<string, string> = {}): IngestResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export const problem = (status: number, body: ErrorBody, headers?: Record<string, string>): IngestResponse =>
  json(status, body, headers);

/** The media type of a request without parameters, lower-cased (`application/json; charset=utf-8` → `application/json`). */
export function mediaTypeOf(request: IngestRequest): string | undefined {
  return request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/** Body limits: what API Gateway and one Lambda invocation handle comfortably; larger files go through the CLI in chunks. */
export const MAX_EVENTS_BODY_BYTES = 1024 * 1024;
export const MAX_BATCH_BODY_BYTES = 5 * 1024 * 1024;
export const MAX_BATCH_ROWS = 5_000;
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
/**
 * What a request may send before it has shown a credential that can be checked without the body: a
 * server that buffers more for anyone who asks can be made to hold megabytes per open connection.
 */
export const MAX_UNAUTHENTICATED_BODY_BYTES = 64 * 1024;

export const mib = (bytes: number): string => `${bytes / (1024 * 1024)} MiB`;

/** 413 when the body is larger than `maxBytes`; `rule` tells the sender the limit. Undefined: go on. */
export function requireSize(
  request: IngestRequest,
  maxBytes: number,
  rule: string,
): IngestResponse | undefined {
  if (request.body.length <= maxBytes) return undefined;
  return problem(413, {
    error: 'body_too_large',
    message: `the body is ${request.body.length} bytes; ${rule}`,
  });
}

/** 415 unless the body is declared JSON (`application/json` or any `+json` type). Undefined: go on. */
export function requireJson(request: IngestRequest): IngestResponse | undefined {
  const type = mediaTypeOf(request);
  if (type === 'application/json' || type?.endsWith('+json')) return undefined;
  return problem(415, {
    error: 'unsupported_media_type',
    message: `send Content-Type: application/json (got ${type ?? 'none'})`,
    allowed: ['application/json'],
  });
}
