import { type Backoff, backoffMs } from '../../../functions/core/engine/retry-delay';
import type { AcceptedEvent } from '../../../functions/core/ingest/accept-events';
import type { ErrorBody } from '../../../functions/core/ingest/http';
import type { eventView } from '../../../functions/core/ingest/routes/operator';
import { type CliContext, CliError } from '../cli-io';
import { ExecuteApiSigner, type Target } from './target';

/** What the API answers, as the CLI reads it; the server's own types where they exist, so drift fails tsc. */
export type { AcceptedEvent };
export type EventView = ReturnType<typeof eventView>;
export type EventPageAnswer = { events: EventView[]; cursor?: string };
export type PostEventsAnswer = { events: AcceptedEvent[] };
export type BatchAnswer = {
  batchId: string;
  accepted: number;
  duplicates: number;
  rejected: { line: number; error: string }[];
};
export type LocalDeadLetter = {
  eventId: string;
  employeeKey: string;
  reason: string;
  deadAt: string;
  receiveCount: number;
};

export type ApiAnswer = { status: number; body: unknown };

export type ApiRequest = {
  method: 'GET' | 'POST' | 'DELETE';
  /** Below the base URL, e.g. `/events`; appended to any API Gateway stage path. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: string;
  contentType?: string;
  /**
   * Retry on a lost connection, 429 and 502-504. Safe for every route whose effect is keyed by event id
   * (a repeat is a duplicate); off for those that act on whatever is there at the time (redrive).
   */
  retry?: boolean;
  /** An operator route other than a read (POST /forget): IAM-signed on AWS too, as reads are. */
  operator?: boolean;
};

const ATTEMPTS = 3;
const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);
const REQUEST_TIMEOUT_MS = 60_000;
const MAX_RETRY_WAIT_MS = 10_000;
/** 500 ms after the first failed attempt, 1 s after the second: an operator is waiting. */
const BACKOFF: Backoff = { baseMs: 500, jitter: 'none' };

/** The ingest API over HTTP: authentication, retries of passing trouble, and the refusals every route shares. */
export class ApiClient {
  readonly #target: Target;
  readonly #ctx: CliContext;
  #signer: ExecuteApiSigner | undefined;

  constructor(target: Target, ctx: CliContext) {
    this.#target = target;
    this.#ctx = ctx;
  }

  async send(request: ApiRequest): Promise<ApiAnswer> {
    const retry = request.retry ?? true;
    for (let attempt = 1; ; attempt++) {
      const last = !retry || attempt === ATTEMPTS;
      let response: Response;
      try {
        response = await this.#fetch(request);
      } catch (error) {
        if (error instanceof CliError) throw error;
        const failure = describeNetworkFailure(error, this.#target);
        if (last || !failure.transient) throw new CliError(failure.message);
        await this.#ctx.sleep(backoffMs(attempt, BACKOFF));
        continue;
      }
      if (TRANSIENT_STATUSES.has(response.status) && !last) {
        await response.body?.cancel();
        await this.#ctx.sleep(retryAfterMs(response) ?? backoffMs(attempt, BACKOFF));
        continue;
      }
      const answer = { status: response.status, body: await bodyOf(response) };
      this.#refuseAuthFailures(request, answer);
      return answer;
    }
  }
  async #fetch(request: ApiRequest): Promise<Response> {
    const url = new URL(`${this.#target.baseUrl}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (request.contentType) headers['content-type'] = request.contentType;
    const signed = this.#signsReads(request)
      ? await this.#signerFor(this.#target.iamRegion!).headersFor(request.method, url, headers, request.body)
      : { ...headers, authorization: `Bearer ${this.#target.token()}` };
    // fetch sets Host itself, from the same URL the signature covers.
    const { host: _host, ...sent } = signed;
    return this.#ctx.fetch(url, {
      method: request.method,
      headers: sent,
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  }

  /** On AWS, reads and operator routes are IAM-authorised at API Gateway; ingest writes take the token. */
  #signsReads(request: ApiRequest): boolean {
    return (request.method === 'GET' || request.operator === true) && this.#target.iamRegion !== undefined;
  }

  #signerFor(region: string): ExecuteApiSigner {
    this.#signer ??= new ExecuteApiSigner(region, this.#ctx.awsCredentials);
    return this.#signer;
  }

  #refuseAuthFailures(request: ApiRequest, answer: ApiAnswer): void {
    if (answer.status === 401) throw new CliError(`the token was refused — ${this.#target.tokenHint}`);
    if (answer.status === 403 && this.#signsReads(request)) {
      const reason = problemOf(answer.body).message ?? 'Forbidden';
      throw new CliError(
        `AWS refused the signed request (${reason}) — check the AWS credentials in use (AWS_PROFILE, aws sso login) and that they may call execute-api:Invoke on this API in ${this.#target.iamRegion}`,
      );
    }
  }
}

async function bodyOf(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function retryAfterMs(response: Response): number | undefined {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_RETRY_WAIT_MS) : undefined;
}

/** The API's error body; API Gateway's own refusals carry only `message`. */
export function problemOf(body: unknown): Partial<ErrorBody> {
  if (typeof body !== 'object' || body === null) return typeof body === 'string' ? { message: body } : {};
  return body as Partial<ErrorBody>;
}

/** An answer the command has no special meaning for: the status and the server's own sentence. */
export function unexpectedAnswer(action: string, answer: ApiAnswer): CliError {
  const problem = problemOf(answer.body);
  const message = problem.message ?? problem.error ?? 'no explanation in the answer';
  return new CliError(`${action} failed: HTTP ${answer.status}: ${message}`);
}

type NetworkFailure = { message: string; transient: boolean };

/**
 * What a failed fetch means for the operator. Connection refused and unknown hosts are not retried:
 * nothing is listening, and waiting will not change that; a reset or a timeout may pass.
 */
function describeNetworkFailure(error: unknown, target: Target): NetworkFailure {
  const code = errorCodeOf(error);
  if (code === 'ECONNREFUSED') {
    return {
      message: target.local
        ? `no runtime at ${target.baseUrl} — start it with \`npm start\``
        : `nothing answers at ${target.baseUrl} (connection refused) — check --url or HRP_URL`,
      transient: false,
    };
  }
  if (code === 'ENOTFOUND') {
    return {
      message: `cannot resolve the host of ${target.baseUrl} — check --url or HRP_URL`,
      transient: false,
    };
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { message: `${target.baseUrl} did not answer in time`, transient: true };
  }
  const detail = code ?? (error instanceof Error ? error.message : String(error));
  return { message: `the connection to ${target.baseUrl} failed (${detail})`, transient: true };
}

/** fetch wraps the socket error as `cause`; with several addresses (localhost) it is an AggregateError. */
function errorCodeOf(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  for (const candidate of [cause, ...(cause instanceof AggregateError ? cause.errors : []), error]) {
    const code = (candidate as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
