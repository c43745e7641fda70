import type { CanonicalEvent, ResourceRoles } from '../events/canonical-event';
import { deriveRoles, type RoleMapping } from '../roles/role-mapping';
import type { User } from '../truefoundry/api-contract';

/*
 * What to write to TrueFoundry for one account: what the event wants (desiredStateOf), what TrueFoundry has
 * (observe), and the fewest steps between the two (planConvergence). step-calls.ts turns each step into its
 * HTTP call; event-run.ts runs them.
 */

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

/** What TrueFoundry says about one person, reduced to what convergence compares. */
export type ObservedUser =
  | { exists: false }
  | {
      exists: true;
      id: string;
      active: boolean;
      tenantRoles: string[];
      resourceRoles: Map<string, string[]>;
    };

/** One TrueFoundry write. `key` names it in the step ledger: stable across re-plans of the same event. */
export type Step =
  | { key: 'create'; action: 'register' | 'invite' }
  | { key: 'activate'; action: 'activate' }
  | { key: `roles:${string}`; action: 'set-roles'; resourceType: string; roles: string[] }
  | { key: 'deactivate'; action: 'deactivate' }
  | { key: 'delete'; action: 'delete'; userId: string };

export type ProvisionMode = 'register' | 'invite';

export type Plan = { steps: Step[]; note?: string };

export const TENANT = 'tenant';

export function observe(user: User | undefined): ObservedUser {
  if (!user) return { exists: false };
  const resourceRoles = new Map<string, string[]>();
  for (const entry of user.rolesWithResource ?? []) {
    if (entry.resourceType === TENANT) continue;
    resourceRoles.set(entry.resourceType, [...(resourceRoles.get(entry.resourceType) ?? []), entry.roleName]);
  }
  return { exists: true, id: user.id, active: user.active, tenantRoles: user.roles ?? [], resourceRoles };
}

/**
 * The fewest writes that make TrueFoundry match `desired`, in the order they must run.
 * A new user's roles are always set explicitly: the tenant's default role for new users is not
 * something the pipeline can know, and one PATCH is cheaper than a wrong role.
 */
export function planConvergence(desired: DesiredState, observed: ObservedUser, mode: ProvisionMode): Plan {
  if (desired.kind === 'offboarded') {
    if (!observed.exists) return { steps: [], note: 'not in TrueFoundry: nothing to offboard' };
    const steps: Step[] = observed.active ? [{ key: 'deactivate', action: 'deactivate' }] : [];
    if (desired.deleteAfterOffboard) steps.push({ key: 'delete', action: 'delete', userId: observed.id });
    return steps.length > 0 ? { steps } : { steps, note: 'already deactivated' };
  }

  if (!observed.exists) {
    return {
      steps: [
        { key: 'create', action: mode },
        setRoles(TENANT, desired.roles),
        ...desired.resourceRoles
          .filter((r) => r.roles.length > 0)
          .map((r) => setRoles(r.resourceType, r.roles)),
      ],
    };
  }

  const steps: Step[] = [];
  if (!observed.active) {
    if (!desired.reactivate) {
      return {
        steps: [],
        note: 'deactivated in TrueFoundry: only a hire reactivates, a role change does not',
      };
    }
    steps.push({ key: 'activate', action: 'activate' });
  }
  if (!sameSet(observed.tenantRoles, desired.roles)) steps.push(setRoles(TENANT, desired.roles));
  for (const { resourceType, roles } of desired.resourceRoles) {
    if (!sameSet(observed.resourceRoles.get(resourceType) ?? [], roles))
      steps.push(setRoles(resourceType, roles));
  }
  return steps.length > 0 ? { steps } : { steps, note: 'already in the wanted state' };
}

function setRoles(resourceType: string, roles: string[]): Step {
  return { key: `roles:${resourceType}`, action: 'set-roles', resourceType, roles };
}

function sameSet(a: string[], b: string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}
