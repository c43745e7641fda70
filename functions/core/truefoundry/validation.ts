import * as z from 'zod';
import { type FailedRequest, InvalidUserRequestError, TrueFoundryApiError } from './errors';

/*
 * What the client checks on either side of a call: a request before anything is sent, and a 2xx answer
 * against the fields the project relies on.
 */

const email = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, { error: 'must not be empty' })
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { error: 'must be an email address' });
const nonEmpty = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' });
const roles = z.array(z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }), {
  error: 'must be an array of strings',
});

export const requestSchemas = {
  list: z.object({
    limit: z.int({ error: 'must be a whole number' }).min(1).max(1000).optional(),
    offset: z.int({ error: 'must be a whole number' }).min(0).optional(),
    query: z.string({ error: 'must be a string' }).optional(),
    showInvalidUsers: z.boolean({ error: 'must be a boolean' }).optional(),
  }),
  preRegister: z
    .object({
      email,
      sendInviteEmail: z.boolean({ error: 'must be a boolean' }).optional(),
      skipIfUserExists: z.boolean({ error: 'must be a boolean' }).optional(),
      dryRun: z.boolean({ error: 'must be a boolean' }).optional(),
      acceptInviteClientURL: nonEmpty.optional(),
    })
    .refine((r) => !r.sendInviteEmail || r.acceptInviteClientURL !== undefined, {
      path: ['acceptInviteClientURL'],
      error: 'is required when sendInviteEmail is true',
    }),
  updateRoles: z.object({ email, roles, resourceType: nonEmpty.optional() }),
  invite: z.object({ acceptInviteClientUrl: nonEmpty, email }),
  userStatus: z.object({ email, tenantName: nonEmpty.optional() }),
  changePassword: z.object({ loginId: nonEmpty, newPassword: nonEmpty, oldPassword: nonEmpty }),
  userId: nonEmpty,
  deleteParams: z.object({ tenantName: nonEmpty.optional() }),
} as const;

/** Checks a request before anything is sent; the error names the operation, the field and what was expected. */
export function validateRequest<S extends z.ZodType>(
  operation: string,
  schema: S,
  input: unknown,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'request';
  throw new InvalidUserRequestError(operation, field, issue?.message ?? 'is invalid');
}

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
