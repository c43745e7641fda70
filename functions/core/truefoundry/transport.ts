import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import type { ErrorBody } from './api-contract';
import {
  abortedError,
  errorForStatus,
  type FailedRequest,
  networkError,
  TrueFoundryApiError,
  TrueFoundryError,
  TrueFoundryRateLimitError,
  timeoutError,
} from './errors';
import type { Pacer } from './rate-limiter';
import { parseRetryAfter, type RetryPolicy, retryDelayMs } from './retry-policy';
import { parseResponse } from './validation';

/*
 * How a users API call goes over the wire: pacing, a timeout per attempt, errors by status, and retries only
 * where a repeat is safe. TrueFoundryUsersClient (client.ts) says what each operation sends; this, how.
 */

/** One HTTP attempt, reported to a caller that records what happened (e.g. the step ledger). */
export type AttemptRecord = {
  method: string;
  path: string;
  attempt: number;
  /** HTTP status, undefined when no answer came (network failure, timeout). */
  status: number | undefined;
  durationMs: number;
  error?: TrueFoundryError;
};

export type CallOptions = {
  signal?: AbortSignal;
  onAttempt?: (attempt: AttemptRecord) => void;
  /**
   * Epoch ms after which the caller cannot wait: a retry whose delay (or Retry-After) would end later is not
   * waited for; the error is thrown with its retryAfterMs for the caller to hand to its queue.
   */
  deadlineAtMs?: number;
};

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export type RequestSpec = {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  schema: z.ZodType;
};

/**
 * Methods whose repeat after a transient failure cannot do harm: reads, and the PATCHes (roles, activate,
 * deactivate), which set a state. A POST creates (a repeat could invite twice) and a DELETE repeated after
 * a lost answer turns success into a 404, so neither is retried: the caller decides.
 */
const SAFE_TO_REPEAT: ReadonlySet<HttpMethod> = new Set(['GET', 'PATCH']);

/** What a transport needs, defaults applied: TrueFoundryUsersClient builds it from its options. */
export type TransportSettings = {
  /** Without a trailing slash. */
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  retry: RetryPolicy;
  rateLimiter: Pacer | undefined;
  fetch: typeof fetch;
};

/** Sends one request of the users API, with the attempts its method allows, and parses the answer. */
export class UsersApiTransport {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly rateLimiter: Pacer | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(settings: TransportSettings) {
    this.baseUrl = settings.baseUrl;
    this.apiKey = settings.apiKey;
    this.timeoutMs = settings.timeoutMs;
    this.retry = settings.retry;
    this.rateLimiter = settings.rateLimiter;
    this.fetchImpl = settings.fetch;
  }

  async request<T>(spec: RequestSpec, options: CallOptions = {}): Promise<T> {
    const maxAttempts = SAFE_TO_REPEAT.has(spec.method) ? this.retry.maxAttempts : 1;
    const failed: FailedRequest = { method: spec.method, path: spec.path };
    for (let attempt = 1; ; attempt++) {
      await this.waitOrAbort(failed, options.signal, () => this.rateLimiter?.acquire(options.signal));
      try {
        return await this.attempt<T>(spec, attempt, options);
      } catch (error) {
        if (!(error instanceof TrueFoundryError) || !error.isTransient() || attempt >= maxAttempts)
          throw error;
        const delayMs = retryDelayMs(this.retry, attempt, error.retryAfterMs);
        if (options.deadlineAtMs !== undefined && Date.now() + delayMs > options.deadlineAtMs) throw error;
        await this.waitOrAbort(failed, options.signal, () =>
          sleep(delayMs, undefined, options.signal ? { signal: options.signal } : undefined),
        );
      }
    }
  }

  /** Waits (for the limiter or a backoff), turning the caller's abort into the client's own error class. */
  private async waitOrAbort(
    failed: FailedRequest,
    signal: AbortSignal | undefined,
    wait: () => Promise<unknown> | undefined,
  ): Promise<void> {
    try {
      await wait();
    } catch (error) {
      if (signal?.aborted) throw abortedError(failed, signal.reason);
      throw error;
    }
  }

  private async attempt<T>(spec: RequestSpec, attempt: number, options: CallOptions): Promise<T> {
    const failed: FailedRequest = { method: spec.method, path: spec.path };
    const started = performance.now();
    const report = (status: number | undefined, error?: TrueFoundryError) =>
      options.onAttempt?.({
        method: spec.method,
        path: spec.path,
        attempt,
        status,
        durationMs: performance.now() - started,
        ...(error ? { error } : {}),
      });
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let status: number | undefined;
    try {
      const response = await this.fetchImpl(this.urlOf(spec), {
        method: spec.method,
        headers: this.headersOf(spec),
        ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
        signal,
      });
      status = response.status;
      const text = await response.text();
      if (!response.ok) {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        const error = errorForStatus(response.status, failed, this.errorBodyOf(text), retryAfterMs);
        if (error instanceof TrueFoundryRateLimitError && retryAfterMs !== undefined) {
          this.rateLimiter?.pauseFor(retryAfterMs);
        }
        throw error;
      }
      const result = parseResponse<T>(
        spec.schema,
        text === '' ? {} : JSON.parse(text),
        failed,
        response.status,
      );
      report(response.status);
      return result;
    } catch (caught) {
      const error = this.classify(caught, failed, options.signal, timeout, status);
      report(error.status ?? status, error);
      throw error;
    }
  }

  private classify(
    caught: unknown,
    failed: FailedRequest,
    callerSignal: AbortSignal | undefined,
    timeout: AbortSignal,
    status: number | undefined,
  ): TrueFoundryError {
    if (caught instanceof TrueFoundryError) return caught;
    if (callerSignal?.aborted) return abortedError(failed, callerSignal.reason);
    if (timeout.aborted) return timeoutError(failed, this.timeoutMs);
    if (caught instanceof SyntaxError && status !== undefined) {
      return new TrueFoundryApiError('unexpected response body', {
        ...failed,
        status,
        apiMessage: 'the answer is not JSON; is baseUrl the tenant control-plane URL?',
      });
    }
    return networkError(failed, caught);
  }

  private urlOf(spec: RequestSpec): string {
    const url = new URL(`${this.baseUrl}/${spec.path}`);
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  private headersOf(spec: RequestSpec): Record<string, string> {
    return {
      authorization: `Bearer ${this.apiKey}`,
      accept: 'application/json',
      ...(spec.body === undefined ? {} : { 'content-type': 'application/json' }),
    };
  }

  /** TrueFoundry's error body, with the API key cut out in case a proxy ever echoes the request. */
  private errorBodyOf(text: string): Partial<ErrorBody> | undefined {
    try {
      const body: unknown = JSON.parse(text);
      if (typeof body !== 'object' || body === null) return undefined;
      const parsed = body as Partial<ErrorBody>;
      return typeof parsed.message === 'string'
        ? { ...parsed, message: parsed.message.replaceAll(this.apiKey, '[redacted]') }
        : parsed;
    } catch {
      return text === '' ? undefined : { message: text.slice(0, 200).replaceAll(this.apiKey, '[redacted]') };
    }
  }
}
