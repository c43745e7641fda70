import type { AttemptRecord, CallOptions } from '../truefoundry/client';
import { InvalidUserRequestError } from '../truefoundry/errors';
import type { Step } from './convergence-plan';
import type { UsersApi } from './ports';

export type StepCallConfig = { acceptInviteUrl?: string; tenantName?: string };

/** Where a planned step becomes its one TrueFoundry HTTP call, for the account `email`. */
export function callForStep(
  api: UsersApi,
  email: string,
  step: Step,
  config: StepCallConfig,
  callOptions: CallOptions & { onAttempt: (attempt: AttemptRecord) => void },
): Promise<unknown> {
  const { acceptInviteUrl, tenantName } = config;
  const options = callOptions;
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
