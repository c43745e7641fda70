import type { AttemptRecord, CallOptions } from '../truefoundry/client';
import { InvalidUserRequestError } from '../truefoundry/errors';
import type { Step } from './convergence-plan';
import type { UsersApi } from './ports';

/*
 * Where a hire becomes HTTP calls. An event's way to TrueFoundry, in three modules side by side:
 *
 *   convergence-plan.ts  what the event wants for an account (desiredStateOf), what TrueFoundry has
 *                        (observe), and the fewest steps between the two (planConvergence)
 *   step-calls.ts        this module: the one users API call each step is, with its exact body
 *   event-run.ts         runs the steps of one delivery: claims each in the step ledger, makes the call,
 *                        records the outcome (converge-event.ts decides which accounts, in which order)
 *
 * Before it plans, event-run.ts reads the account (GET users, by email). A hire of someone new is then
 * `create` (POST users/register, or POST users/invite) and `set-roles` (PATCH users/roles) for the tenant and
 * each resource type; a hire of a deactivated user, PATCH users/activate and the roles that differ; a role
 * change, the roles that differ; an offboard, PATCH users/deactivate, then DELETE users/{id} when
 * deleteAfterOffboard is set.
 */

export type StepCallConfig = { acceptInviteUrl?: string; tenantName?: string };

/** Where a planned step becomes its one TrueFoundry HTTP call, for the account `email`. */
export function callForStep(
  api: UsersApi,
  email: string,
  step: Step,
  config: StepCallConfig,
  options: CallOptions & { onAttempt: (attempt: AttemptRecord) => void },
): Promise<unknown> {
  const { acceptInviteUrl, tenantName } = config;
  const tenant = tenantName ? { tenantName } : {};
  switch (step.action) {
    case 'register':
      return api.preRegister(
        {
          email,
          skipIfUserExists: true,
          ...(acceptInviteUrl ? { sendInviteEmail: true, acceptInviteClientURL: acceptInviteUrl } : {}),
        },
        options,
      );
    case 'invite':
      if (!acceptInviteUrl)
        throw new InvalidUserRequestError('invite', 'acceptInviteUrl', 'must be configured to invite');
      return api.invite({ email, acceptInviteClientUrl: acceptInviteUrl }, options);
    case 'activate':
      return api.activate({ email, ...tenant }, options);
    case 'deactivate':
      return api.deactivate({ email, ...tenant }, options);
    case 'set-roles':
      return api.updateRoles(
        {
          email,
          roles: step.roles,
          ...(step.resourceType === 'tenant' ? {} : { resourceType: step.resourceType }),
        },
        options,
      );
    case 'delete':
      return api.delete(step.userId, tenant, options);
  }
}
