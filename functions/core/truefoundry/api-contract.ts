/*
 * The TrueFoundry users API as the wire has it: the path of each operation, and the bodies, as in
 * TrueFoundry's SDK reference. Field names are the wire names.
 */

/** One constant per path of the users API, relative to the tenant base URL, so a corrected path is a one-line change. */
export const USERS_PATH = 'api/svc/v1/users';
export const REGISTER_PATH = 'api/svc/v1/users/register';
export const ROLES_PATH = 'api/svc/v1/users/roles';
export const INVITE_PATH = 'api/svc/v1/users/invite';
export const DEACTIVATE_PATH = 'api/svc/v1/users/deactivate';
export const ACTIVATE_PATH = 'api/svc/v1/users/activate';
export const CHANGE_PASSWORD_PATH = 'api/svc/v1/users/change-password';
export const userPath = (id: string): string => `api/svc/v1/users/${encodeURIComponent(id)}`;
// The next three come from the wire contract, not from an SDK. TrueFoundry's generated TypeScript client had
// getResources and getTeams from October 2025 and getPermissions from April 2026, at these very paths; its
// regeneration of 29 June 2026 dropped all three, and its latest version read (2 July 2026) has none of them.
export const userResourcesPath = (id: string): string => `${userPath(id)}/resources`;
export const userPermissionsPath = (id: string): string => `${userPath(id)}/permissions`;
export const userTeamsPath = (id: string): string => `${userPath(id)}/teams`;

export type UserMetadata = {
  sub?: string;
  imageURL?: string;
  pictureDownloadPath?: string;
  displayName?: string;
  userObject?: unknown;
  inviteAccepted?: boolean;
  registeredInIdp?: boolean;
  preference?: unknown;
  groups?: string[];
  tenantRoleManagedBy?: 'manual' | 'group' | 'initial';
  ssoName?: string;
  scimUserObject?: unknown;
  createdByScim?: boolean;
};

export type RoleWithResource = {
  roleId: string;
  resourceType: string;
  resourceId: string;
  roleName: string;
};

export type User = {
  id: string;
  email: string;
  tenantName: string;
  metadata: UserMetadata;
  roles?: string[];
  rolesWithResource?: RoleWithResource[];
  accounts?: { accountId: string; name: string }[];
  active: boolean;
  isEditable: boolean;
  createdAt: string;
  updatedAt: string;
  lastAccessedAt?: string;
};

export type Pagination = { total: number; offset?: number; limit?: number };

export type ListUsersParams = {
  limit?: number;
  offset?: number;
  query?: string;
  showInvalidUsers?: boolean;
};

export type ListUsersResponse = { data: User[]; pagination: Pagination };

export type PreRegisterUserRequest = {
  email: string;
  sendInviteEmail?: boolean;
  skipIfUserExists?: boolean;
  dryRun?: boolean;
  /** Spelled `URL` on this endpoint, `Url` on invite: both as on the wire. */
  acceptInviteClientURL?: string;
};

export type UpdateRolesRequest = { email: string; roles: string[]; resourceType?: string };

export type InviteUserRequest = { acceptInviteClientUrl: string; email: string };
export type InviteUserResponse = { link: string };

export type UserStatusRequest = { email: string; tenantName?: string };

export type ChangePasswordRequest = { loginId: string; newPassword: string; oldPassword: string };

export type DeleteUserParams = { tenantName?: string };

export type SubjectPermission = {
  resourceType: string;
  resourceId: string;
  resourceName?: string;
  resourceFqn?: string;
  roleId: string;
  roleName: string;
  subjectId: string;
  subjectType: string;
};

/** One item of `getResources`: a resource the user is a collaborator on, with the role held there. */
export type UserResource = {
  resourceType: string;
  resourceId: string;
  roleId: string;
  /** Only when TrueFoundry knows the resource's name. */
  resourceName?: string;
};

/**
 * One item of `getTeams`: a team the user is a member of, with the user's roles in it. The shape of the last
 * generated client that had the operation (April to June 2026); before April 2026 it answered full team objects.
 */
export type UserTeam = { teamName: string; roles: string[] };

/** TrueFoundry answers open objects for most writes; unknown fields are kept, never relied on. */
export type EmptyResponse = Record<string, unknown>;

export type ErrorBody = {
  statusCode: number;
  message: string;
  code?: number | string;
  details?: Record<string, unknown>[];
};
