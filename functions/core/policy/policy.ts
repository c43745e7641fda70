import type { CanonicalEvent, ResourceRoles } from '../events/canonical-event';
import type { ValidationIssue } from '../events/validation-issues';
import type { EffectivePolicy, PolicySource } from './policy-file';

/*
 * The checks of the policy. Ingest refuses early what it can see in the event itself (explicit roles, the
 * source, the domain, the event's own account); the worker checks again what only it knows (derived roles,
 * the person's other accounts) right before it would write, which is the guarantee: an event queued before
 * the policy changed, or redriven from the dead letters, meets the policy in force when it runs.
 */

/** An effective policy ready to check against: the protected-account globs compiled once. */
export type Policy = {
  readonly effective: EffectivePolicy;
  readonly protectedMatchers: readonly { pattern: string; regex: RegExp }[];
};

export function compilePolicy(effective: EffectivePolicy): Policy {
  return {
    effective,
    protectedMatchers: effective.protectedAccounts.map((pattern) => ({ pattern, regex: globOf(pattern) })),
  };
}

/** `*` matches any run of characters (including none); everything else literally; case-insensitive. */
function globOf(pattern: string): RegExp {
  const literal = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('.*')}$`, 'iu');
}

/** For the banner and logs: the file in force, or what applies without one. */
export function describePolicy(policy: Policy): string {
  return policy.effective.file ?? 'none: ceiling = roles of the role mapping';
}

/** `batch:<id>` is the `batch` source; the others are recorded as they are named. */
export function sourceKindOf(source: string): string {
  return source.startsWith('batch:') ? 'batch' : source;
}

/** The glob that protects an account, or undefined when the pipeline may change it. */
export function isProtected(policy: Policy, email: string): string | undefined {
  const folded = email.normalize('NFC').trim().toLowerCase();
  return policy.protectedMatchers.find((m) => m.regex.test(folded))?.pattern;
}

/** Why the pipeline must not touch an account, for ingest answers and failed events alike. */
export function protectedReason(email: string, pattern: string): string {
  return `${email} is a protected account (protectedAccounts: ${pattern}): the pipeline never changes, deactivates or deletes it`;
}

/** The email's domain when the policy does not allow it. Exact match: a subdomain must be listed itself. */
export function checkDomain(policy: Policy, email: string): ValidationIssue | undefined {
  const allowed = policy.effective.allowedEmailDomains;
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  if (allowed === undefined || allowed.includes(domain)) return undefined;
  return {
    path: 'employee.email',
    message: `the domain ${domain} is not allowed (allowedEmailDomains: ${allowed.join(', ')})`,
  };
}

/** A role outside the ceiling, with where in the event (or the mapping) it came from. */
export type RoleBeyondCeiling = { path: string; resourceType: string; role: string };

/** Each role of `roles` (tenant) and `resourceRoles` that the ceiling does not allow. */
export function rolesBeyondCeiling(
  policy: Policy,
  roles: readonly string[] | undefined,
  resourceRoles: ResourceRoles | undefined,
): RoleBeyondCeiling[] {
  const beyond = (path: string, type: string, list: readonly string[]) =>
    list
      .filter((role) => !allowedFor(policy, type).includes(role))
      .map((role) => ({ path, resourceType: type, role }));
  return [
    ...beyond('roles', 'tenant', roles ?? []),
    ...(resourceRoles ?? []).flatMap((entry, i) =>
      beyond(`resourceRoles.${i}.roles`, entry.resourceType, entry.roles),
    ),
  ];
}

/** The sentence naming a role outside the ceiling and the ceiling itself. */
export function ceilingMessage(policy: Policy, { resourceType, role }: RoleBeyondCeiling): string {
  const allowed = allowedFor(policy, resourceType).join(', ') || 'none';
  const where = policy.effective.file
    ? `allowedRoles.${resourceType} of ${policy.effective.file}`
    : 'no policy file, so the ceiling is the roles the role mapping grants';
  return `${role} is not an allowed ${resourceType} role (allowed: ${allowed}; ${where})`;
}

// Own keys only: a resource type such as `constructor` must not find Object.prototype's members.
const allowedFor = (policy: Policy, type: string): readonly string[] =>
  Object.hasOwn(policy.effective.allowedRoles, type) ? (policy.effective.allowedRoles[type] ?? []) : [];

/** Whether a source may carry roles, and each explicit role above the ceiling. */
export function checkExplicitRoles(policy: Policy, event: CanonicalEvent, source: string): ValidationIssue[] {
  const fields = (['roles', 'resourceRoles'] as const).filter((field) => event[field] !== undefined);
  if (fields.length === 0) return [];
  const kind = sourceKindOf(source);
  const mayCarry = policy.effective.explicitRoles;
  if (!mayCarry.includes(kind as PolicySource)) {
    return fields.map((field) => ({
      path: field,
      message: `events from the ${kind} source may not carry ${field} (explicitRoles: ${mayCarry.join(', ') || 'none'}); leave ${field} out and the role mapping decides`,
    }));
  }
  return rolesBeyondCeiling(policy, event.roles, event.resourceRoles).map((beyond) => ({
    path: beyond.path,
    message: ceilingMessage(policy, beyond),
  }));
}

/** Everything ingest refuses an event for: its source's right to roles, the ceiling, the domain, the account. */
export function ingestIssues(policy: Policy, event: CanonicalEvent, source: string): ValidationIssue[] {
  const email = event.employee.email;
  const pattern = isProtected(policy, email);
  const domain = checkDomain(policy, email);
  return [
    ...checkExplicitRoles(policy, event, source),
    ...(domain ? [domain] : []),
    ...(pattern ? [{ path: 'employee.email', message: protectedReason(email, pattern) }] : []),
  ];
}
