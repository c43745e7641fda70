/** One constant per path of the users API, relative to the tenant base URL, so a corrected path is a one-line change. */
export const USERS_PATH = 'api/svc/v1/users';
export const REGISTER_PATH = 'api/svc/v1/users/register';
export const ROLES_PATH = 'api/svc/v1/users/roles';
export const INVITE_PATH = 'api/svc/v1/users/invite';
export const DEACTIVATE_PATH = 'api/svc/v1/users/deactivate';
export const ACTIVATE_PATH = 'api/svc/v1/users/activate';
export const CHANGE_PASSWORD_PATH = 'api/svc/v1/users/change-password';
export const userPath = (id: string): string => `api/svc/v1/users/${encodeURIComponent(id)}`;
// The next three are in the newest reference but not yet in the generated clients; paths follow the teams API.
export const userResourcesPath = (id: string): string => `${userPath(id)}/resources`;
export const userPermissionsPath = (id: string): string => `${userPath(id)}/permissions`;
export const userTeamsPath = (id: string): string => `${userPath(id)}/teams`;
