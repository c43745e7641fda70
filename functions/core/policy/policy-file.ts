import * as z from 'zod';
import { issuesOf, ValidationError, type ValidationIssue } from '../events/validation-issues';
import type { RoleMapping } from '../roles/role-mapping';

/*
 * The policy file: what an ingest credential and the role mapping may ask of TrueFoundry, whose admin key the
 * pipeline holds. It is configuration, like the role mapping: validated at start-up (locally) or at synth (AWS),
 * with the path of every mistake, and checked against the mapping so that no rule can grant what the policy
 * forbids. Every key is optional; what a key leaves out falls back to what the pipeline did before it existed,
 * except the role ceiling, which then is the set of roles the role mapping itself grants.
 */

/** Where events come from. `batch` covers every `batch:<id>` source; `reconcile` is the roster comparison. */
export const POLICY_SOURCES = ['webhook', 'token', 'batch', 'bamboohr', 'reconcile'] as const;
export type PolicySource = (typeof POLICY_SOURCES)[number];

const roleName = z.string().trim().min(1, { error: 'must not be empty' });
// A glob of an email address: `*` matches any run of characters. Without an `@` it could never match an
// address, which is almost certainly a typo in a file that is meant to protect accounts.
const accountPattern = z
  .string()
  .transform((s) => s.normalize('NFC').trim().toLowerCase())
  .pipe(
    z.string().regex(/^[^\s@]+@[^\s@]+$/, {
      error: 'must be an email address, where * matches any run of characters (svc-*@example.com)',
    }),
  );
const domain = z
  .string()
  .transform((s) => s.normalize('NFC').trim().toLowerCase())
  .pipe(
    z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/u, {
      error: 'must be a domain name such as example.com (no @, no wildcard)',
    }),
  );

export const policyFileSchema = z.strictObject({
  /** The ceiling per resource type (`tenant` for `roles`); a type not listed allows no role at all. */
  allowedRoles: z.record(z.string().trim().min(1), z.array(roleName)).optional(),
  /** The sources whose events may carry `roles`/`resourceRoles`; everyone else gets mapping-derived roles. */
  explicitRoles: z
    .array(z.enum(POLICY_SOURCES, { error: `must be one of ${POLICY_SOURCES.join(', ')}` }))
    .optional(),
  /** Accounts the pipeline never changes, deactivates or deletes. */
  protectedAccounts: z.array(accountPattern).optional(),
  /** The domains an event's email may have; exact matches only (a subdomain is listed on its own). */
  allowedEmailDomains: z
    .array(domain)
    .min(1, { error: 'must list at least one domain; leave the key out to allow any' })
    .optional(),
});

export type PolicyFile = z.input<typeof policyFileSchema>;

/**
 * A policy with every default filled in: what the pipeline enforces, and what synth bundles into both
 * Lambdas (the ingest λ has no role mapping to work the ceiling out from).
 */
export type EffectivePolicy = {
  /** The file it came from; absent when there is none and the ceiling is the role mapping's roles. */
  file?: string;
  allowedRoles: Record<string, string[]>;
  explicitRoles: PolicySource[];
  protectedAccounts: string[];
  /** Absent: any domain. */
  allowedEmailDomains?: string[];
};

const effectivePolicySchema = policyFileSchema.required({
  allowedRoles: true,
  explicitRoles: true,
  protectedAccounts: true,
});

/**
 * Validates a policy file (`undefined`: there is none) and fills in its defaults from the role mapping.
 * Throws ValidationError naming each mistake's path, or each mapping rule that grants a role outside the
 * ceiling. `name` says where the file came from, in messages and in the start-up banner; `mappingName`
 * where the mapping did.
 */
export function resolvePolicy(
  policy: { content: unknown; name: string } | undefined,
  mapping: RoleMapping,
  mappingName = 'the role mapping',
): EffectivePolicy {
  const parsed = policyFileSchema.safeParse(policy?.content ?? {}, { reportInput: true });
  if (!parsed.success) throw new ValidationError(issuesOf(parsed.error), `invalid policy ${policy?.name}`);
  const given = parsed.data;
  const allowedRoles = given.allowedRoles ?? rolesOfMapping(mapping);
  assertMappingWithin(mapping, allowedRoles, `the policy ${policy?.name}`, mappingName);
  return {
    ...(policy ? { file: policy.name } : {}),
    allowedRoles,
    explicitRoles: given.explicitRoles ?? [...POLICY_SOURCES],
    protectedAccounts: given.protectedAccounts ?? [],
    ...(given.allowedEmailDomains ? { allowedEmailDomains: given.allowedEmailDomains } : {}),
  };
}

/** Reads an effective policy back (the JSON synth bundled); nothing is filled in, so nothing may be missing. */
export function parseEffectivePolicy(input: unknown, source = 'the bundled policy'): EffectivePolicy {
  const parsed = effectivePolicySchema
    .extend({ file: z.string().optional() })
    .safeParse(input, { reportInput: true });
  if (!parsed.success) throw new ValidationError(issuesOf(parsed.error), `invalid ${source}`);
  const { file, allowedEmailDomains, ...rest } = parsed.data;
  return {
    ...(file ? { file } : {}),
    ...rest,
    ...(allowedEmailDomains ? { allowedEmailDomains } : {}),
  };
}

/** Every role any rule or default of the mapping grants, per resource type: the ceiling without a policy. */
export function rolesOfMapping(mapping: RoleMapping): Record<string, string[]> {
  const ceiling = new Map<string, Set<string>>([['tenant', new Set(mapping.defaultRoles)]]);
  const add = (type: string, roles: readonly string[]) => {
    const set = ceiling.get(type) ?? new Set<string>();
    for (const role of roles) set.add(role);
    ceiling.set(type, set);
  };
  for (const entry of mapping.defaultResourceRoles) add(entry.resourceType, entry.roles);
  for (const rule of mapping.rules) {
    add('tenant', rule.roles ?? []);
    for (const entry of rule.resourceRoles ?? []) add(entry.resourceType, entry.roles);
  }
  return Object.fromEntries([...ceiling].map(([type, roles]) => [type, [...roles]]));
}

/** Throws ValidationError naming each rule (by its path in the mapping file) that grants beyond the ceiling. */
export function assertMappingWithin(
  mapping: RoleMapping,
  allowedRoles: Record<string, string[]>,
  policyName: string,
  mappingName = 'the role mapping',
): void {
  const beyond = mappingBeyondCeiling(mapping, allowedRoles);
  if (beyond.length > 0) {
    throw new ValidationError(beyond, `${mappingName} grants roles outside allowedRoles of ${policyName}`);
  }
}

/** Each grant of the mapping outside the ceiling, at its path in the mapping file and with the rule's name. */
function mappingBeyondCeiling(mapping: RoleMapping, allowed: Record<string, string[]>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const check = (path: string, who: string, type: string, roles: readonly string[]) => {
    const ceiling = Object.hasOwn(allowed, type) ? (allowed[type] ?? []) : [];
    for (const role of roles.filter((r) => !ceiling.includes(r))) {
      issues.push({
        path,
        message: `${who} grants ${role} (${type}), which allowedRoles.${type} does not allow (${ceiling.join(', ') || 'none'})`,
      });
    }
  };
  check('default', 'the default', 'tenant', mapping.defaultRoles);
  mapping.defaultResourceRoles.forEach((entry, i) => {
    check(`defaultResourceRoles.${i}`, 'the default', entry.resourceType, entry.roles);
  });
  mapping.rules.forEach((rule, i) => {
    const who = `rule "${rule.name}"`;
    check(`rules.${i}.roles`, who, 'tenant', rule.roles ?? []);
    rule.resourceRoles?.forEach((entry, j) => {
      check(`rules.${i}.resourceRoles.${j}`, who, entry.resourceType, entry.roles);
    });
  });
  return issues;
}
