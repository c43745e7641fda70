import type { ValidationIssue } from '../events/validation-issues';

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
