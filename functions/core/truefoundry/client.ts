import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
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
import * as paths from './paths';
import { type Pacer, RateLimiter } from './rate-limiter';
import { requestSchemas, validateRequest } from './request-validation';
import { parseResponse, responseSchemas } from './response-validation';
import {
  parseRetryAfter,
  type RetryOptions,
  type RetryPolicy,
  retryDelayMs,
  retryPolicy,
} from './retry-policy';
import type {
  ChangePasswordRequest,
  DeleteUserParams,
  EmptyResponse,
  ErrorBody,
  InviteUserRequest,
  InviteUserResponse,
  ListUsersParams,
  ListUsersResponse,
  PreRegisterUserRequest,
  SubjectPermission,
  UpdateRolesRequest,
  User,
  UserResource,
  UserStatusRequest,
  UserTeam,
} from './types';

export type TrueFoundryUsersClientOptions = {
  /** The tenant's control-plane URL, with or without a trailing slash. */
  baseUrl: string;
  apiKey: string;
  /** Per attempt. Default 30 s. */
  timeoutMs?: number;
  /** Retries of safe requests (GET and the idempotent PATCHes) after transient errors. */
  retry?: RetryOptions;
  /** Shared pacing; pass one limiter to every client that talks to the same tenant. */
  rateLimiter?: Pacer;
  /** Convenience: a limiter of this many requests per second, when `rateLimiter` is not given. */
  requestsPerSecond?: number;
  fetch?: typeof fetch;
};

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

type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

type RequestSpec = {
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

/**
 * Typed client of the TrueFoundry users API: the twelve operations of the contract, exact wire names,
 * errors by status, timeouts, pacing, and retries only where a repeat is safe.
 */
export class TrueFoundryUsersClient {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly rateLimiter: Pacer | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(options: TrueFoundryUsersClientOptions) {
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
      throw new TypeError('baseUrl must be an http(s) URL, e.g. https://acme.truefoundry.cloud');
    }
    if (typeof options.apiKey !== 'string' || options.apiKey.length === 0) {
      throw new TypeError('apiKey must be a non-empty string');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = retryPolicy(options.retry);
    this.rateLimiter =
      options.rateLimiter ??
      (options.requestsPerSecond === undefined
        ? undefined
        : new RateLimiter({ requestsPerSecond: options.requestsPerSecond }));
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** One page of users. */
  async list(params: ListUsersParams = {}, options?: CallOptions): Promise<ListUsersResponse> {
    const query = validateRequest('list', requestSchemas.list, params);
    return this.request(
      { method: 'GET', path: paths.USERS_PATH, query, schema: responseSchemas.list },
      options,
    );
  }

  /** Every user matching `params`, page after page, as the SDKs page: on while a page comes back full. */
  async *listAll(params: Omit<ListUsersParams, 'offset'> = {}, options?: CallOptions): AsyncGenerator<User> {
    const limit = params.limit ?? 100;
    let offset = 0;
    while (true) {
      const page = await this.list({ ...params, limit, offset }, options);
      yield* page.data;
      if (page.data.length < limit) return;
      offset += page.data.length;
    }
  }

  /**
   * The user with exactly this email (case-insensitive), deactivated ones included, or undefined.
   * The API's `query` is free text (`ann@x.com` also finds `joann@x.com`), so results are matched here.
   */
  async findByEmail(email: string, options?: CallOptions): Promise<User | undefined> {
    const wanted = validateRequest('findByEmail', requestSchemas.userStatus, { email }).email.toLowerCase();
    for await (const user of this.listAll({ query: wanted, showInvalidUsers: true }, options)) {
      if (user.email.toLowerCase() === wanted) return user;
    }
    return undefined;
  }

  /** Creates the user without an invitation unless `sendInviteEmail`; works for SSO tenants. Never retried. */
  async preRegister(body: PreRegisterUserRequest, options?: CallOptions): Promise<EmptyResponse> {
    const valid = validateRequest('preRegister', requestSchemas.preRegister, body);
    return this.request(
      { method: 'POST', path: paths.REGISTER_PATH, body: valid, schema: responseSchemas.object },
      options,
    );
  }

  /** Replaces the user's roles for one resource type (tenant when omitted). */
  async updateRoles(body: UpdateRolesRequest, options?: CallOptions): Promise<EmptyResponse> {
    const valid = validateRequest('updateRoles', requestSchemas.updateRoles, body);
    return this.request(
      { method: 'PATCH', path: paths.ROLES_PATH, body: valid, schema: responseSchemas.object },
      options,
    );
  }

  async get(id: string, options?: CallOptions): Promise<{ data: User }> {
    const userId = validateRequest('get', requestSchemas.userId, id);
    return this.request(
      { method: 'GET', path: paths.userPath(userId), schema: responseSchemas.dataOfUser },
      options,
    );
  }

  /** Not retried: a repeat after a lost answer would turn success into a 404. */
  async delete(id: string, params: DeleteUserParams = {}, options?: CallOptions): Promise<EmptyResponse> {
    const userId = validateRequest('delete', requestSchemas.userId, id);
    const query = validateRequest('delete', requestSchemas.deleteParams, params);
    return this.request(
      { method: 'DELETE', path: paths.userPath(userId), query, schema: responseSchemas.object },
      options,
    );
  }

  /** Sends an invitation email; only for tenants whose auth TrueFoundry manages. Never retried. */
  async invite(body: InviteUserRequest, options?: CallOptions): Promise<InviteUserResponse> {
    const valid = validateRequest('invite', requestSchemas.invite, body);
    return this.request(
      { method: 'POST', path: paths.INVITE_PATH, body: valid, schema: responseSchemas.invite },
      options,
    );
  }

  async deactivate(body: UserStatusRequest, options?: CallOptions): Promise<EmptyResponse> {
    return this.setStatus('deactivate', paths.DEACTIVATE_PATH, body, options);
  }

  async activate(body: UserStatusRequest, options?: CallOptions): Promise<EmptyResponse> {
    return this.setStatus('activate', paths.ACTIVATE_PATH, body, options);
  }

  async changePassword(body: ChangePasswordRequest, options?: CallOptions): Promise<EmptyResponse> {
    const valid = validateRequest('changePassword', requestSchemas.changePassword, body);
    return this.request(
      { method: 'POST', path: paths.CHANGE_PASSWORD_PATH, body: valid, schema: responseSchemas.object },
      options,
    );
  }

  /** The resources the user is a collaborator on, one item per role held there. */
  async getResources(id: string, options?: CallOptions): Promise<{ data: UserResource[] }> {
    return this.getData('getResources', paths.userResourcesPath, responseSchemas.resources, id, options);
  }

  async getPermissions(id: string, options?: CallOptions): Promise<{ data: SubjectPermission[] }> {
    return this.getData('getPermissions', paths.userPermissionsPath, responseSchemas.dataArray, id, options);
  }

  /** The teams the user is a member of, with the user's roles in each. */
  async getTeams(id: string, options?: CallOptions): Promise<{ data: UserTeam[] }> {
    return this.getData('getTeams', paths.userTeamsPath, responseSchemas.teams, id, options);
  }

  private async setStatus(
    operation: 'activate' | 'deactivate',
    path: string,
    body: UserStatusRequest,
    options: CallOptions | undefined,
  ): Promise<EmptyResponse> {
    const valid = validateRequest(operation, requestSchemas.userStatus, body);
    return this.request({ method: 'PATCH', path, body: valid, schema: responseSchemas.object }, options);
  }

  private async getData<T>(
    operation: string,
    pathOf: (id: string) => string,
    schema: z.ZodType,
    id: string,
    options: CallOptions | undefined,
  ): Promise<{ data: T[] }> {
    const userId = validateRequest(operation, requestSchemas.userId, id);
    return this.request({ method: 'GET', path: pathOf(userId), schema }, options);
  }

  private async request<T>(spec: RequestSpec, options: CallOptions = {}): Promise<T> {
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
