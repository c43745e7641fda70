import type { CanonicalEvent, ResourceRoles } from '../events/canonical-event';
import { deriveRoles, type RoleMapping } from '../roles/role-mapping';

/** What an event says should be true in TrueFoundry for one person. */
export type DesiredState =
  | {
      kind: 'present';
      email: string;
      /** Only a hire brings back a deactivated user; a role change never undoes a lockout. */
      reactivate: boolean;
      roles: string[];
      resourceRoles: ResourceRoles;
      /** Which mapping rules gave the roles, when the event carried none. */
      matchedRules?: string[];
    }
  | { kind: 'offboarded'; email: string; deleteAfterOffboard: boolean };

export function desiredStateOf(
  event: CanonicalEvent,
  mapping: RoleMapping,
  options: { deleteAfterOffboard: boolean },
): DesiredState {
  const email = event.employee.email;
  if (event.type === 'offboard')
    return { kind: 'offboarded', email, deleteAfterOffboard: options.deleteAfterOffboard };
  const needsMapping = event.roles === undefined || event.resourceRoles === undefined;
  const derived = needsMapping ? deriveRoles(mapping, event.employee) : undefined;
  return {
    kind: 'present',
    email,
    reactivate: event.type === 'hire',
    roles: event.roles ?? derived?.roles ?? [],
    resourceRoles: event.resourceRoles ?? derived?.resourceRoles ?? [],
    ...(event.roles === undefined && derived ? { matchedRules: derived.matchedRules } : {}),
  };
}
