import { z } from 'zod';
import { type FailedRequest, TrueFoundryApiError } from './errors';

// Only the fields the project relies on are checked; every other field passes through untouched,
// because TrueFoundry may add fields at any time and the contract says never to fail on them.
const user = z.looseObject({ id: z.string(), email: z.string(), active: z.boolean() });
// The two typed sub-resource answers: their typed fields are checked, so `UserResource` and `UserTeam` hold.
const userResource = z.looseObject({
  resourceType: z.string(),
  resourceId: z.string(),
  roleId: z.string(),
  resourceName: z.string().optional(),
});
const userTeam = z.looseObject({ teamName: z.string(), roles: z.array(z.string()) });

export const responseSchemas = {
  list: z.looseObject({ data: z.array(user), pagination: z.looseObject({ total: z.number() }) }),
  dataOfUser: z.looseObject({ data: user }),
  dataArray: z.looseObject({ data: z.array(z.unknown()) }),
  resources: z.looseObject({ data: z.array(userResource) }),
  teams: z.looseObject({ data: z.array(userTeam) }),
  invite: z.looseObject({ link: z.string() }),
  object: z.looseObject({}),
};

/** Checks a 2xx body against the fields relied on, then types it as the contract says it is. */
export function parseResponse<T>(
  schema: z.ZodType,
  body: unknown,
  request: FailedRequest,
  status: number,
): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data as T;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
  throw new TrueFoundryApiError('unexpected response body', {
    ...request,
    status,
    apiMessage: `${issue?.message ?? 'invalid'}${where}`,
  });
}
