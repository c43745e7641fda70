import { randomBytes } from 'node:crypto';
import type {
  ErrorBody,
  RoleWithResource,
  SubjectPermission,
  User,
  UserResource,
  UserTeam,
} from '../functions/core/truefoundry/api-contract';

/** The behaviour of each users API endpoint over an in-memory table. No HTTP here, so it is unit-testable. */

export type SandboxUser = User & { visibleAt: string; teams: string[]; password?: string };
export type SentEmail = { to: string; link: string; at: string };
export type Effect =
  | 'created'
  | 'roles-updated'
  | 'activated'
  | 'deactivated'
  | 'deleted'
  | 'password-changed';

/** What an endpoint answers, plus what it did to the state (for the call log). */
export type Outcome = { status: number; body: unknown; effect?: Effect; emailSent?: boolean };

export type SeedUserInput = {
  email: string;
  active?: boolean;
  roles?: string[];
  /** `resourceName` names the resource tenant-wide; resources and permissions then carry it. */
  rolesWithResource?: {
    resourceType: string;
    roleName: string;
    resourceId?: string;
    resourceName?: string;
  }[];
  teams?: string[];
  displayName?: string;
  password?: string;
};

export type DirectoryOptions = {
  tenantName: string;
  knownRoles: Record<string, string[]>;
  defaultRoles: string[];
  inviteEnabled: boolean;
  /** Read at creation time, so changing the faults affects only users created afterwards. */
  visibilityDelayMs: () => number;
  /** Injectable so visibility can be unit-tested without waiting. */
  now?: () => number;
};

export const DEFAULT_KNOWN_ROLES: Record<string, string[]> = {
  tenant: ['tenant-admin', 'tenant-member', 'tenant-viewer'],
  workspace: ['workspace-admin', 'workspace-editor', 'workspace-viewer'],
  cluster: ['cluster-admin', 'cluster-viewer'],
  'mlf-project': ['mlf-project-admin', 'mlf-project-editor', 'mlf-project-viewer'],
};

const TENANT = 'tenant';
const EVERYONE_TEAM = 'everyone';
/** The API names no team role values; the sandbox gives every member this one. */
export const TEAM_MEMBER_ROLE = 'team-member';
const DEFAULT_RESOURCE_ID = 'default';
const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 100;
const MIN_PASSWORD_LENGTH = 8;

export const apiError = (statusCode: number, code: string, message: string): ErrorBody => ({
  statusCode,
  message,
  code,
});

/** Thrown by validation deep inside a handler; turned into the error answer at the handler's boundary. */
export class RequestError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'RequestError';
    this.status = status;
    this.code = code;
  }

  toOutcome(): Outcome {
    return { status: this.status, body: apiError(this.status, this.code, this.message) };
  }
}

const invalid = (message: string): RequestError => new RequestError(422, 'VALIDATION_ERROR', message);
const userNotFound = (who: string): RequestError =>
  new RequestError(404, 'USER_NOT_FOUND', `User ${who} not found`);

const attempt = (handler: () => Outcome): Outcome => {
  try {
    return handler();
  } catch (error) {
    if (error instanceof RequestError) return error.toOutcome();
    throw error;
  }
};

const ok = (body: unknown, effect?: Effect): Outcome =>
  effect ? { status: 200, body, effect } : { status: 200, body };

type Fields = Record<string, unknown>;

const objectBody = (body: unknown): Fields => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('"body" must be a JSON object');
  }
  return body as Fields;
};

// `label` names the field as the client sees it when it sits inside an array.
const requiredString = (fields: Fields, name: string, label = name): string => {
  const value = fields[name];
  if (typeof value !== 'string') throw invalid(`"${label}" is required and must be a string`);
  return value;
};

const optionalString = (fields: Fields, name: string, label = name): string | undefined => {
  const value = fields[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`"${label}" must be a string`);
  return value;
};

const optionalBoolean = (fields: Fields, name: string): boolean | undefined => {
  const value = fields[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalid(`"${name}" must be a boolean`);
  return value;
};

const optionalStringArray = (fields: Fields, name: string): string[] | undefined => {
  const value = fields[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalid(`"${name}" must be an array of strings`);
  }
  return value as string[];
};

export const isValidEmail = (email: string): boolean => {
  if (/\s/.test(email)) return false;
  const [local, domain, ...rest] = email.split('@');
  if (rest.length > 0 || !local || domain === undefined) return false;
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((label) => label.length > 0);
};

/** Emails are identities compared case-insensitively, so every lookup and every stored email is lower-cased. */
const emailField = (fields: Fields, name: string): string => {
  const email = requiredString(fields, name);
  if (!isValidEmail(email)) throw invalid(`"${name}" must be a valid email address`);
  return email.toLowerCase();
};

/** Query values arrive as text; anything but a plain integer in range is the client's bug and worth a 422. */
const integerParam = (
  query: Record<string, string>,
  name: string,
  fallback: number,
  min: number,
  max: number,
) => {
  const raw = query[name];
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`"${name}" must be an integer between ${min} and ${max}`);
  }
  return value;
};

const booleanParam = (query: Record<string, string>, name: string): boolean => {
  const raw = query[name];
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  throw invalid(`"${name}" must be true or false`);
};

const roleEntry = (resourceType: string, roleName: string, resourceId: string): RoleWithResource => ({
  roleId: `${resourceType}:${roleName}`,
  resourceType,
  resourceId,
  roleName,
});

const resourceKey = (resourceType: string, resourceId: string): string =>
  `${resourceType}\u0000${resourceId}`;

const appendQuery = (url: string, name: string, value: string): string =>
  `${url}${url.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`;

/** The wire record keeps roles and rolesWithResource always present; internal fields live beside it, never in it. */
type StoredUser = {
  user: User & { roles: string[]; rolesWithResource: RoleWithResource[] };
  visibleAtMs: number;
  teams: string[];
  password?: string;
};

type NewUser = {
  email: string;
  active: boolean;
  tenantRoles: string[];
  otherRoles: RoleWithResource[];
  teams: string[];
  visibleAtMs: number;
  displayName?: string;
  password?: string;
};

export class UserDirectory {
  private readonly options: DirectoryOptions;
  private readonly now: () => number;
  private readonly knownRoles: ReadonlyMap<string, readonly string[]>;
  // Map iteration follows insertion order, which gives the list its stable creation order for free.
  private readonly byId = new Map<string, StoredUser>();
  private readonly byEmail = new Map<string, StoredUser>();
  /** Resource names known from seeds, by resourceKey; a resource without one is answered without a name. */
  private readonly resourceNames = new Map<string, string>();
  private sentEmails: SentEmail[] = [];
  private nextId = 1;

  constructor(options: DirectoryOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.knownRoles = new Map(Object.entries(options.knownRoles));
  }

  list(query: Record<string, string>): Outcome {
    return attempt(() => {
      const limit = integerParam(query, 'limit', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
      const offset = integerParam(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      const showInvalidUsers = booleanParam(query, 'showInvalidUsers');
      const needle = (query.query ?? '').trim().toLowerCase();
      const now = this.now();
      const data: User[] = [];
      let total = 0;
      // One pass without an intermediate array: only the page itself is copied.
      for (const stored of this.byId.values()) {
        if (stored.visibleAtMs > now) continue;
        if (!stored.user.active && !showInvalidUsers) continue;
        if (needle && !matchesEmail(stored.user, needle)) continue;
        if (total >= offset && data.length < limit) data.push(copyUser(stored.user));
        total += 1;
      }
      return ok({ data, pagination: { total, offset, limit } });
    });
  }

  get(id: string): Outcome {
    return attempt(() => ok({ data: copyUser(this.visibleById(id).user) }));
  }

  remove(id: string, query: Record<string, string>): Outcome {
    return attempt(() => {
      this.checkTenantName(query.tenantName);
      const stored = this.visibleById(id);
      const holdsResources = stored.user.rolesWithResource.some((role) => role.resourceType !== TENANT);
      const inOtherTeams = stored.teams.some((team) => team !== EVERYONE_TEAM);
      if (holdsResources || inOtherTeams) {
        throw new RequestError(
          400,
          'USER_HAS_RESOURCES',
          `User ${id} is a collaborator on resources or a member of teams other than "${EVERYONE_TEAM}"`,
        );
      }
      this.byId.delete(stored.user.id);
      this.byEmail.delete(stored.user.email);
      return ok({}, 'deleted');
    });
  }

  /** One item per role the user holds on a resource other than the tenant, as TrueFoundry's `UserResource`. */
  resources(id: string): Outcome {
    return attempt(() => {
      const distinct = new Map<string, UserResource>();
      for (const { resourceType, resourceId, roleId } of this.visibleById(id).user.rolesWithResource) {
        if (resourceType === TENANT) continue;
        distinct.set(`${resourceKey(resourceType, resourceId)}\u0000${roleId}`, {
          resourceType,
          resourceId,
          roleId,
          ...this.nameOf(resourceType, resourceId),
        });
      }
      return ok({ data: [...distinct.values()] });
    });
  }

  permissions(id: string): Outcome {
    return attempt(() => {
      const { user } = this.visibleById(id);
      const data: SubjectPermission[] = user.rolesWithResource.map((role) => ({
        resourceType: role.resourceType,
        resourceId: role.resourceId,
        ...this.nameOf(role.resourceType, role.resourceId),
        roleId: role.roleId,
        roleName: role.roleName,
        subjectId: user.id,
        subjectType: 'user',
      }));
      return ok({ data });
    });
  }

  teams(id: string): Outcome {
    return attempt(() => {
      const data: UserTeam[] = this.visibleById(id).teams.map((teamName) => ({
        teamName,
        roles: [TEAM_MEMBER_ROLE],
      }));
      return ok({ data });
    });
  }

  register(body: unknown): Outcome {
    return attempt(() => {
      const fields = objectBody(body);
      const email = emailField(fields, 'email');
      const sendInviteEmail = optionalBoolean(fields, 'sendInviteEmail') ?? false;
      const skipIfUserExists = optionalBoolean(fields, 'skipIfUserExists') ?? false;
      const dryRun = optionalBoolean(fields, 'dryRun') ?? false;
      const inviteUrl = optionalString(fields, 'acceptInviteClientURL');
      if (sendInviteEmail && !inviteUrl) {
        throw invalid('"acceptInviteClientURL" is required when "sendInviteEmail" is true');
      }
      // Existence includes users not yet visible: the real API knows them even while its list lags.
      if (this.byEmail.has(email)) {
        if (skipIfUserExists) return ok({});
        throw this.alreadyExists(email);
      }
      if (dryRun) return ok({});
      this.insert(this.freshUser(email));
      if (!sendInviteEmail || !inviteUrl) return ok({}, 'created');
      this.sendInvitation(email, inviteUrl);
      return { ...ok({}, 'created'), emailSent: true };
    });
  }

  invite(body: unknown): Outcome {
    return attempt(() => {
      // A tenant-wide condition, independent of the request: checked before looking at the body.
      if (!this.options.inviteEnabled) {
        throw new RequestError(403, 'FORBIDDEN', 'Invitations need an auth provider managed by TrueFoundry');
      }
      const fields = objectBody(body);
      const inviteUrl = requiredString(fields, 'acceptInviteClientUrl');
      if (!inviteUrl) throw invalid('"acceptInviteClientUrl" must not be empty');
      const email = emailField(fields, 'email');
      if (this.byEmail.has(email)) throw this.alreadyExists(email);
      this.insert(this.freshUser(email));
      const link = this.sendInvitation(email, inviteUrl);
      return { ...ok({ link }, 'created'), emailSent: true };
    });
  }

  updateRoles(body: unknown): Outcome {
    return attempt(() => {
      const fields = objectBody(body);
      const email = emailField(fields, 'email');
      const roles = optionalStringArray(fields, 'roles');
      if (roles === undefined) throw invalid('"roles" must be an array of strings');
      const resourceType = optionalString(fields, 'resourceType') ?? TENANT;
      this.checkRoles(resourceType, roles);
      const stored = this.visibleByEmail(email);
      const resourceId = resourceType === TENANT ? this.options.tenantName : DEFAULT_RESOURCE_ID;
      const distinctRoles = [...new Set(roles)];
      const { user } = stored;
      user.rolesWithResource = [
        ...user.rolesWithResource.filter((role) => role.resourceType !== resourceType),
        ...distinctRoles.map((roleName) => roleEntry(resourceType, roleName, resourceId)),
      ];
      if (resourceType === TENANT) {
        user.roles = distinctRoles;
        user.metadata.tenantRoleManagedBy = 'manual';
      }
      this.touch(stored);
      return ok({}, 'roles-updated');
    });
  }

  activate(body: unknown): Outcome {
    return this.setActive(body, true);
  }

  deactivate(body: unknown): Outcome {
    return this.setActive(body, false);
  }

  changePassword(body: unknown): Outcome {
    return attempt(() => {
      const fields = objectBody(body);
      const loginId = requiredString(fields, 'loginId');
      const newPassword = requiredString(fields, 'newPassword');
      const oldPassword = requiredString(fields, 'oldPassword');
      if (newPassword.length < MIN_PASSWORD_LENGTH) {
        throw invalid(`"newPassword" must be at least ${MIN_PASSWORD_LENGTH} characters long`);
      }
      const stored = this.visibleByEmail(loginId.toLowerCase());
      if (stored.password !== undefined && stored.password !== oldPassword) {
        throw new RequestError(
          400,
          'INVALID_OLD_PASSWORD',
          '"oldPassword" does not match the current password',
        );
      }
      stored.password = newPassword;
      this.touch(stored);
      return ok({}, 'password-changed');
    });
  }

  /** Puts a user in place as if it had existed for a while: visible at once, roles taken as given. */
  seed(input: SeedUserInput): SandboxUser {
    const email = input.email.toLowerCase();
    if (!isValidEmail(email)) throw invalid('"email" must be a valid email address');
    if (this.byEmail.has(email)) throw this.alreadyExists(email);
    const given = input.rolesWithResource ?? [];
    const seededTenantRoles = given
      .filter((role) => role.resourceType === TENANT)
      .map((role) => role.roleName);
    const tenantRoles =
      input.roles ?? (seededTenantRoles.length > 0 ? seededTenantRoles : this.options.defaultRoles);
    const otherRoles = given
      .filter((role) => role.resourceType !== TENANT)
      .map((role) => roleEntry(role.resourceType, role.roleName, role.resourceId ?? DEFAULT_RESOURCE_ID));
    for (const role of given) {
      if (role.resourceName === undefined) continue;
      // As the roles themselves: a tenant role is always on this tenant, another defaults to "default".
      const resourceId =
        role.resourceType === TENANT ? this.options.tenantName : (role.resourceId ?? DEFAULT_RESOURCE_ID);
      this.resourceNames.set(resourceKey(role.resourceType, resourceId), role.resourceName);
    }
    const stored = this.insert({
      email,
      active: input.active ?? true,
      tenantRoles,
      otherRoles,
      teams: input.teams ?? [EVERYONE_TEAM],
      visibleAtMs: this.now(),
      displayName: input.displayName,
      password: input.password,
    });
    return toSandboxUser(stored);
  }

  users(): SandboxUser[] {
    return [...this.byId.values()].map(toSandboxUser);
  }

  emailsSent(): SentEmail[] {
    return this.sentEmails.map((email) => ({ ...email }));
  }

  reset(): void {
    this.byId.clear();
    this.byEmail.clear();
    this.resourceNames.clear();
    this.sentEmails = [];
    this.nextId = 1;
  }

  private setActive(body: unknown, active: boolean): Outcome {
    return attempt(() => {
      const fields = objectBody(body);
      const email = emailField(fields, 'email');
      this.checkTenantName(optionalString(fields, 'tenantName'));
      const stored = this.visibleByEmail(email);
      if (stored.user.active === active) return ok({});
      stored.user.active = active;
      this.touch(stored);
      return ok({}, active ? 'activated' : 'deactivated');
    });
  }

  private nameOf(resourceType: string, resourceId: string): { resourceName?: string } {
    const resourceName = this.resourceNames.get(resourceKey(resourceType, resourceId));
    return resourceName === undefined ? {} : { resourceName };
  }

  private checkTenantName(tenantName: string | undefined): void {
    if (tenantName !== undefined && tenantName !== this.options.tenantName) {
      throw invalid(`"tenantName" must be "${this.options.tenantName}"`);
    }
  }

  private checkRoles(resourceType: string, roles: string[]): void {
    const allowed = this.knownRoles.get(resourceType);
    if (!allowed) {
      throw invalid(`"resourceType" must be one of: ${[...this.knownRoles.keys()].join(', ')}`);
    }
    const unknown = roles.filter((role) => !allowed.includes(role));
    if (unknown.length > 0) {
      throw new RequestError(
        422,
        'INVALID_ROLE',
        `Unknown ${resourceType} role(s): ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`,
      );
    }
  }

  private freshUser(email: string): NewUser {
    return {
      email,
      active: true,
      tenantRoles: this.options.defaultRoles,
      otherRoles: [],
      teams: [EVERYONE_TEAM],
      visibleAtMs: this.now() + this.options.visibilityDelayMs(),
    };
  }

  private insert(fresh: NewUser): StoredUser {
    const at = new Date(this.now()).toISOString();
    const tenantRoles = [...new Set(fresh.tenantRoles)];
    const stored: StoredUser = {
      user: {
        id: `usr_${this.nextId++}`,
        email: fresh.email,
        tenantName: this.options.tenantName,
        metadata: {
          inviteAccepted: false,
          registeredInIdp: false,
          ...(fresh.displayName === undefined ? {} : { displayName: fresh.displayName }),
          tenantRoleManagedBy: 'initial',
        },
        roles: tenantRoles,
        rolesWithResource: [
          ...tenantRoles.map((roleName) => roleEntry(TENANT, roleName, this.options.tenantName)),
          ...fresh.otherRoles,
        ],
        accounts: [],
        active: fresh.active,
        isEditable: true,
        createdAt: at,
        updatedAt: at,
      },
      visibleAtMs: fresh.visibleAtMs,
      teams: [...fresh.teams],
      ...(fresh.password === undefined ? {} : { password: fresh.password }),
    };
    this.byId.set(stored.user.id, stored);
    this.byEmail.set(stored.user.email, stored);
    return stored;
  }

  private sendInvitation(to: string, inviteUrl: string): string {
    const link = appendQuery(inviteUrl, 'token', randomBytes(16).toString('hex'));
    this.sentEmails.push({ to, link, at: new Date(this.now()).toISOString() });
    return link;
  }

  private touch(stored: StoredUser): void {
    stored.user.updatedAt = new Date(this.now()).toISOString();
  }

  private alreadyExists(email: string): RequestError {
    return new RequestError(409, 'USER_ALREADY_EXISTS', `User ${email} already exists`);
  }

  private visibleById(id: string): StoredUser {
    const stored = this.byId.get(id);
    if (!stored || stored.visibleAtMs > this.now()) throw userNotFound(id);
    return stored;
  }

  private visibleByEmail(email: string): StoredUser {
    const stored = this.byEmail.get(email);
    if (!stored || stored.visibleAtMs > this.now()) throw userNotFound(email);
    return stored;
  }
}

/** A hand-written copy: structuredClone costs several times more, and list pages copy up to 1000 users. */
const copyUser = (user: StoredUser['user']): StoredUser['user'] => ({
  ...user,
  metadata: { ...user.metadata },
  roles: [...user.roles],
  rolesWithResource: user.rolesWithResource.map((role) => ({ ...role })),
  accounts: user.accounts?.map((account) => ({ ...account })),
});

/** TrueFoundry documents `query` as an email substring match: the display name is not searched. */
const matchesEmail = (user: User, needle: string): boolean => user.email.includes(needle);

const toSandboxUser = (stored: StoredUser): SandboxUser => ({
  ...copyUser(stored.user),
  visibleAt: new Date(stored.visibleAtMs).toISOString(),
  teams: [...stored.teams],
  ...(stored.password === undefined ? {} : { password: stored.password }),
});

/** Validates a seed request that arrived over HTTP; the typed programmatic path skips this. */
export const parseSeedUser = (body: unknown): SeedUserInput => {
  const fields = objectBody(body);
  const rolesWithResource = fields.rolesWithResource;
  if (rolesWithResource !== undefined && !Array.isArray(rolesWithResource)) {
    throw invalid('"rolesWithResource" must be an array');
  }
  return {
    email: requiredString(fields, 'email'),
    active: optionalBoolean(fields, 'active'),
    roles: optionalStringArray(fields, 'roles'),
    rolesWithResource: rolesWithResource?.map((entry: unknown, index: number) => {
      const label = `rolesWithResource[${index}]`;
      if (typeof entry !== 'object' || entry === null) throw invalid(`"${label}" must be an object`);
      const role = entry as Fields;
      return {
        resourceType: requiredString(role, 'resourceType', `${label}.resourceType`),
        roleName: requiredString(role, 'roleName', `${label}.roleName`),
        resourceId: optionalString(role, 'resourceId', `${label}.resourceId`),
        resourceName: optionalString(role, 'resourceName', `${label}.resourceName`),
      };
    }),
    teams: optionalStringArray(fields, 'teams'),
    displayName: optionalString(fields, 'displayName'),
    password: optionalString(fields, 'password'),
  };
};
