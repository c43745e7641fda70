import type { z } from 'zod';
import {
  ACTIVATE_PATH,
  CHANGE_PASSWORD_PATH,
  type ChangePasswordRequest,
  DEACTIVATE_PATH,
  type DeleteUserParams,
  type EmptyResponse,
  INVITE_PATH,
  type InviteUserRequest,
  type InviteUserResponse,
  type ListUsersParams,
  type ListUsersResponse,
  type PreRegisterUserRequest,
  REGISTER_PATH,
  ROLES_PATH,
  type SubjectPermission,
  type UpdateRolesRequest,
  USERS_PATH,
  type User,
  type UserResource,
  type UserStatusRequest,
  type UserTeam,
  userPath,
  userPermissionsPath,
  userResourcesPath,
  userTeamsPath,
} from './api-contract';
import { type Pacer, RateLimiter } from './rate-limiter';
import { type RetryOptions, retryPolicy } from './retry-policy';
import { type CallOptions, UsersApiTransport } from './transport';
import { requestSchemas, responseSchemas, validateRequest } from './validation';

/** How a call went and what its caller may ask of it: part of every operation's signature below. */
export type { AttemptRecord, CallOptions } from './transport';

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

/**
 * Typed client of the TrueFoundry users API: the twelve operations of the contract, exact wire names,
 * errors by status, timeouts, pacing, and retries only where a repeat is safe (those four: transport.ts).
 */
export class TrueFoundryUsersClient {
  private readonly transport: UsersApiTransport;

  constructor(options: TrueFoundryUsersClientOptions) {
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
      throw new TypeError('baseUrl must be an http(s) URL, e.g. https://acme.truefoundry.cloud');
    }
    if (typeof options.apiKey !== 'string' || options.apiKey.length === 0) {
      throw new TypeError('apiKey must be a non-empty string');
    }
    // The key goes into the Authorization header. fetch refuses a line break or control character there
    // with an error that quotes the whole header, key included, into logs and the step's error; a line
    // break could also add a header. Refused here by rule, without the value (issue 14, header injection).
    if (!/^[\x21-\x7e]+$/.test(options.apiKey)) {
      throw new TypeError(
        'apiKey must be printable ASCII without spaces, line breaks or control characters (a trailing newline in the secret?)',
      );
    }
    this.transport = new UsersApiTransport({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs ?? 30_000,
      retry: retryPolicy(options.retry),
      rateLimiter:
        options.rateLimiter ??
        (options.requestsPerSecond === undefined
          ? undefined
          : new RateLimiter({ requestsPerSecond: options.requestsPerSecond })),
      fetch: options.fetch ?? fetch,
    });
  }

  /** One page of users. */
  async list(params: ListUsersParams = {}, options?: CallOptions): Promise<ListUsersResponse> {
    const query = validateRequest('list', requestSchemas.list, params);
    return this.transport.request(
      { method: 'GET', path: USERS_PATH, query, schema: responseSchemas.list },
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
    return this.transport.request(
      { method: 'POST', path: REGISTER_PATH, body: valid, schema: responseSchemas.object },
      options,
    );
  }

  /** Replaces the user's roles for one resource type (tenant when omitted). */
  async updateRoles(body: UpdateRolesRequest, options?: CallOptions): Promise<EmptyResponse> {
    const valid = validateRequest('updateRoles', requestSchemas.updateRoles, body);
    return this.transport.request(
      { method: 'PATCH', path: ROLES_PATH, body: valid, schema: responseSchemas.object },
      options,
    );
  }

  async get(id: string, options?: CallOptions): Promise<{ data: User }> {
    const userId = validateRequest('get', requestSchemas.userId, id);
    return this.transport.request(
      { method: 'GET', path: userPath(userId), schema: responseSchemas.dataOfUser },
      options,
    );
  }

  /** Not retried: a repeat after a lost answer would turn success into a 404. */
  async delete(id: string, params: DeleteUserParams = {}, options?: CallOptions): Promise<EmptyResponse> {
    const userId = validateRequest('delete', requestSchemas.userId, id);
    const query = validateRequest('delete', requestSchemas.deleteParams, params);
    return this.transport.request(
      { method: 'DELETE', path: userPath(userId), query, schema: responseSchemas.object },
      options,
    );
  }

  /** Sends an invitation email; only for tenants whose auth TrueFoundry manages. Never retried. */
  async invite(body: InviteUserRequest, options?: CallOptions): Promise<InviteUserResponse> {
    const valid = validateRequest('invite', requestSchemas.invite, body);
    return this.transport.request(
      { method: 'POST', path: INVITE_PATH, body: valid, schema: responseSchemas.invite },
      options,
    );
  }

  async deactivate(body: UserStatusRequest, options?: CallOptions): Promise<EmptyResponse> {
    return this.setStatus('deactivate', DEACTIVATE_PATH, body, options);
  }

  async activate(body: UserStatusRequest, options?: CallOptions): Promise<EmptyResponse> {
    return this.setStatus('activate', ACTIVATE_PATH, body, options);
  }

  async changePassword(body: ChangePasswordRequest, options?: CallOptions): Promise<EmptyResponse> {
    const valid = validateRequest('changePassword', requestSchemas.changePassword, body);
    return this.transport.request(
      { method: 'POST', path: CHANGE_PASSWORD_PATH, body: valid, schema: responseSchemas.object },
      options,
    );
  }

  /** The resources the user is a collaborator on, one item per role held there. */
  async getResources(id: string, options?: CallOptions): Promise<{ data: UserResource[] }> {
    return this.getData('getResources', userResourcesPath, responseSchemas.resources, id, options);
  }

  async getPermissions(id: string, options?: CallOptions): Promise<{ data: SubjectPermission[] }> {
    return this.getData('getPermissions', userPermissionsPath, responseSchemas.dataArray, id, options);
  }

  /** The teams the user is a member of, with the user's roles in each. */
  async getTeams(id: string, options?: CallOptions): Promise<{ data: UserTeam[] }> {
    return this.getData('getTeams', userTeamsPath, responseSchemas.teams, id, options);
  }

  private async setStatus(
    operation: 'activate' | 'deactivate',
    path: string,
    body: UserStatusRequest,
    options: CallOptions | undefined,
  ): Promise<EmptyResponse> {
    const valid = validateRequest(operation, requestSchemas.userStatus, body);
    return this.transport.request(
      { method: 'PATCH', path, body: valid, schema: responseSchemas.object },
      options,
    );
  }

  private async getData<T>(
    operation: string,
    pathOf: (id: string) => string,
    schema: z.ZodType,
    id: string,
    options: CallOptions | undefined,
  ): Promise<{ data: T[] }> {
    const userId = validateRequest(operation, requestSchemas.userId, id);
    return this.transport.request({ method: 'GET', path: pathOf(userId), schema }, options);
  }
}
