import type { CanonicalEvent } from '../events/canonical-event';
import {
  ceilingMessage,
  isProtected,
  type Policy,
  protectedReason,
  rolesBeyondCeiling,
} from '../policy/policy';
import { deriveRoles, type RoleMapping } from '../roles/role-mapping';
import type { Target } from './event-run';

/*
 * The worker's side of the policy, checked before the first write of an event: ingest refused what it could
 * see, but only the worker knows the roles the mapping derives and the other accounts a person holds (an
 * email change deactivates the old one; an offboard, all of them), and an event queued or redriven across a
 * change of policy meets the policy in force now. A refusal is permanent: no retry makes it allowed.
 */

/**
 * Why the policy forbids converging these targets for this event, or undefined. Every role the event would
 * set must lie within the ceiling, whether the event carried it or the mapping derived it; no target may be
 * a protected account.
 */
export function policyRefusal(
  event: CanonicalEvent,
  targets: readonly Target[],
  policy: Policy | undefined,
  mapping: RoleMapping,
): string | undefined {
  if (!policy) return undefined;
  const reasons: string[] = [];
  for (const target of targets) {
    const pattern = isProtected(policy, target.email);
    if (pattern === undefined) continue;
    const whose = target.primary
      ? ''
      : ' (another account of the same person, which this event would deactivate)';
    reasons.push(`${protectedReason(target.email, pattern)}${whose}`);
  }
  const own = targets.find((target) => target.primary)?.desired;
  if (own?.kind === 'present') {
    // Which were derived: the event's own lists are the ones it carried, the mapping filled in the rest.
    const derived = deriveRoles(mapping, event.employee);
    const origin = derived.matchedRules.length > 0 ? `rule ${derived.matchedRules.join(', ')}` : 'default';
    for (const beyond of rolesBeyondCeiling(policy, own.roles, own.resourceRoles)) {
      const carried = beyond.path === 'roles' ? event.roles : event.resourceRoles;
      const from = carried === undefined ? `derived by the role mapping (${origin})` : 'carried by the event';
      reasons.push(`role ${beyond.role}, ${from}: ${ceilingMessage(policy, beyond)}`);
    }
  }
  return reasons.length > 0
    ? `refused by policy: ${reasons.join('; ')}; no TrueFoundry write was made`
    : undefined;
}
