import { z } from 'zod';
import { InvalidUserRequestError } from './errors';

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
