import type { ErrorBody } from './api-contract';

/** Which call failed: enough to find it in TrueFoundry's logs, never the credentials. */
export type FailedRequest = { method: string; path: string };

type ErrorFields = FailedRequest & {
  status?: number;
  apiMessage?: string;
  code?: number | string;
  details?: Record<string, unknown>[];
  retryAfterMs?: number;
  cause?: unknown;
};

/** Base of every error the client throws after it tried to reach TrueFoundry. */
export abstract class TrueFoundryError extends Error {
  readonly method: string;
  readonly path: string;
  /** HTTP status; undefined for network failures and timeouts. */
  readonly status: number | undefined;
  /** TrueFoundry's own `message` from the error body, when it sent one. */
  readonly apiMessage: string | undefined;
  readonly code: number | string | undefined;
  readonly details: Record<string, unknown>[] | undefined;
  /** From a `Retry-After` header, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(summary: string, fields: ErrorFields) {
    super(describe(summary, fields), fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = new.target.name;
    this.method = fields.method;
    this.path = fields.path;
    this.status = fields.status;
    this.apiMessage = fields.apiMessage;
    this.code = fields.code;
    this.details = fields.details;
    this.retryAfterMs = fields.retryAfterMs;
  }

  /** True when the same request may succeed later: rate limits, server errors, network failures, timeouts. */
  abstract isTransient(): boolean;
}

function describe(summary: string, fields: ErrorFields): string {
  const status = fields.status === undefined ? '' : ` ${fields.status}`;
  const detail = fields.apiMessage ? `: ${fields.apiMessage}` : '';
  const code = fields.code === undefined ? '' : ` (code ${fields.code})`;
  return `TrueFoundry ${fields.method} /${fields.path} failed,${status} ${summary}${detail}${code}`;
}

abstract class PermanentError extends TrueFoundryError {
  isTransient(): boolean {
    return false;
  }
}

abstract class TransientError extends TrueFoundryError {
  isTransient(): boolean {
    return true;
  }
}

export class TrueFoundryBadRequestError extends PermanentError {}
export class TrueFoundryUnauthorizedError extends PermanentError {}
export class TrueFoundryForbiddenError extends PermanentError {}
export class TrueFoundryNotFoundError extends PermanentError {}
export class TrueFoundryConflictError extends PermanentError {}
export class TrueFoundryUnprocessableEntityError extends PermanentError {}
/** Any other 4xx (or an unexpected 3xx): TrueFoundry's generic API error. */
export class TrueFoundryApiError extends PermanentError {}
export class TrueFoundryRateLimitError extends TransientError {}
export class TrueFoundryServerError extends TransientError {}
export class TrueFoundryNetworkError extends TransientError {}
export class TrueFoundryTimeoutError extends TransientError {}
/** The caller's AbortSignal fired: nobody wants the answer any more, so it is not worth a retry. */
export class TrueFoundryAbortedError extends PermanentError {}

/** Bad input to a client method, rejected before any request was made. */
export class InvalidUserRequestError extends Error {
  constructor(
    readonly operation: string,
    readonly field: string,
    readonly expected: string,
  ) {
    super(`${operation}: "${field}" ${expected}`);
    this.name = 'InvalidUserRequestError';
  }

  isTransient(): boolean {
    return false;
  }
}

const SUMMARY: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
};

/** Maps an HTTP error answer to its error class. */
export function errorForStatus(
  status: number,
  request: FailedRequest,
  body: Partial<ErrorBody> | undefined,
  retryAfterMs: number | undefined,
): TrueFoundryError {
  const fields: ErrorFields = {
    ...request,
    status,
    ...(typeof body?.message === 'string' ? { apiMessage: body.message } : {}),
    ...(body?.code !== undefined ? { code: body.code } : {}),
    ...(Array.isArray(body?.details) ? { details: body.details } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
  const summary = SUMMARY[status] ?? (status >= 500 ? 'Server Error' : 'Unexpected Status');
  switch (status) {
    case 400:
      return new TrueFoundryBadRequestError(summary, fields);
    case 401:
      return new TrueFoundryUnauthorizedError(summary, fields);
    case 403:
      return new TrueFoundryForbiddenError(summary, fields);
    case 404:
      return new TrueFoundryNotFoundError(summary, fields);
    case 409:
      return new TrueFoundryConflictError(summary, fields);
    case 422:
      return new TrueFoundryUnprocessableEntityError(summary, fields);
    case 429:
      return new TrueFoundryRateLimitError(summary, fields);
    default:
      return status >= 500
        ? new TrueFoundryServerError(summary, fields)
        : new TrueFoundryApiError(summary, fields);
  }
}

export function networkError(request: FailedRequest, cause: unknown): TrueFoundryNetworkError {
  const reason = cause instanceof Error ? causeMessage(cause) : String(cause);
  return new TrueFoundryNetworkError(`network error: ${reason}`, { ...request, cause });
}

export function timeoutError(request: FailedRequest, timeoutMs: number): TrueFoundryTimeoutError {
  return new TrueFoundryTimeoutError(`no answer within ${timeoutMs} ms`, request);
}

export function abortedError(request: FailedRequest, reason: unknown): TrueFoundryAbortedError {
  return new TrueFoundryAbortedError('aborted by the caller', { ...request, cause: reason });
}

// undici wraps the socket error in `cause`; its own message is only "fetch failed".
function causeMessage(error: Error): string {
  const inner = error.cause instanceof Error ? error.cause : undefined;
  const code = inner && 'code' in inner && typeof inner.code === 'string' ? ` (${inner.code})` : '';
  return inner ? `${inner.message}${code}` : error.message;
}

/** True for errors worth retrying later, whatever threw them. */
export function isTransientError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'isTransient' in error &&
    typeof error.isTransient === 'function' &&
    error.isTransient() === true
  );
}
