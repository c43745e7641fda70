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
