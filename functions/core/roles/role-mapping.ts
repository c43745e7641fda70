import * as z from 'zod';
import type { Employee, ResourceRoles } from '../events/canonical-event';
import { issuesOf, ValidationError, type ValidationIssue } from '../events/validation-issues';

/** The employee fields a rule may test; `attributes.<name>` tests a free HR attribute. */
export const MATCHABLE_FIELDS = ['department', 'title', 'location', 'employmentType'] as const;

const REGEX_LITERAL = /^\/(.+)\/([dgimsuvy]*)$/s;

const roleNames = z.array(z.string().trim().min(1, { error: 'must not be empty' })).min(1, {
  error: 'must list at least one role',
});
const resourceRoles = z.array(z.strictObject({ resourceType: z.string().trim().min(1), roles: roleNames }));
// A condition: an exact value (case-insensitive), a "/regex/flags" literal, or a list of exact values.
const condition = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const conditionKey = z.union([
  z.enum(MATCHABLE_FIELDS),
  z.string().regex(/^attributes\.[^.]+$/, { error: 'must be a field name or attributes.<name>' }),
]);

const ruleSchema = z.strictObject({
  name: z.string().optional(),
  when: z.record(conditionKey, condition).refine((w) => Object.keys(w).length > 0, {
    error: 'must test at least one field',
  }),
  roles: roleNames.optional(),
  resourceRoles: resourceRoles.optional(),
});

export const roleMappingSchema = z.strictObject({
  /** `first-match`: the first rule that matches decides; `union`: every matching rule adds its roles. */
  strategy: z.enum(['first-match', 'union']).default('first-match'),
  default: roleNames,
  defaultResourceRoles: resourceRoles.optional(),
  rules: z.array(ruleSchema).default([]),
});

export type RoleMappingFile = z.input<typeof roleMappingSchema>;

type Matcher = (value: string | undefined) => boolean;
type CompiledRule = {
  name: string;
  matchers: [string, Matcher][];
  roles?: string[];
  resourceRoles?: ResourceRoles;
};

/** Validated, compiled role-mapping rules. */
export type RoleMapping = {
  strategy: 'first-match' | 'union';
  defaultRoles: string[];
  defaultResourceRoles: ResourceRoles;
  rules: CompiledRule[];
};

export type DerivedRoles = { roles: string[]; resourceRoles: ResourceRoles; matchedRules: string[] };

/** Validates mapping rules at load, with the path of each mistake, and compiles their regular expressions. */
export function loadRoleMapping(input: unknown, source = 'role mapping'): RoleMapping {
  const parsed = roleMappingSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new ValidationError(issuesOf(parsed.error), `invalid ${source}`);
  const issues: ValidationIssue[] = [];
  const rules = parsed.data.rules.map((rule, index): CompiledRule => {
    if (!rule.roles && !rule.resourceRoles) {
      issues.push({ path: `rules.${index}`, message: 'must give roles or resourceRoles' });
    }
    const matchers = Object.entries(rule.when).map(([field, expected]): [string, Matcher] => {
      try {
        return [field, matcherOf(expected)];
      } catch (error) {
        issues.push({ path: `rules.${index}.when.${field}`, message: (error as Error).message });
        return [field, () => false];
      }
    });
    return {
      name: rule.name ?? `rules[${index}]`,
      matchers,
      ...(rule.roles ? { roles: rule.roles } : {}),
      ...(rule.resourceRoles ? { resourceRoles: rule.resourceRoles } : {}),
    };
  });
  if (issues.length > 0) throw new ValidationError(issues, `invalid ${source}`);
  return {
    strategy: parsed.data.strategy,
    defaultRoles: parsed.data.default,
    defaultResourceRoles: parsed.data.defaultResourceRoles ?? [],
    rules,
  };
}

function matcherOf(expected: string | string[]): Matcher {
  if (Array.isArray(expected)) {
    const wanted = new Set(expected.map(fold));
    return (value) => value !== undefined && wanted.has(fold(value));
  }
  const literal = REGEX_LITERAL.exec(expected);
  if (literal) {
    let regex: RegExp;
    try {
      regex = new RegExp(literal[1] ?? '', literal[2]?.replace(/[gy]/g, ''));
    } catch (error) {
      throw new Error(`is not a valid regular expression: ${(error as Error).message}`);
    }
    return (value) => value !== undefined && regex.test(value);
  }
  const wanted = fold(expected);
  return (value) => value !== undefined && fold(value) === wanted;
}

const fold = (s: string): string => s.normalize('NFC').trim().toLowerCase();

function fieldOf(employee: Employee, field: string): string | undefined {
  if (field.startsWith('attributes.')) {
    const value = employee.attributes?.[field.slice('attributes.'.length)];
    return value === undefined || value === null ? undefined : String(value);
  }
  return employee[field as (typeof MATCHABLE_FIELDS)[number]];
}

/**
 * Roles for an employee from the rules. A rule matches when every condition in `when` matches;
 * with `first-match` the first matching rule decides, with `union` all matching rules add up.
 * No match: the defaults.
 */
export function deriveRoles(mapping: RoleMapping, employee: Employee): DerivedRoles {
  const matching = mapping.rules.filter((rule) =>
    rule.matchers.every(([field, m]) => m(fieldOf(employee, field))),
  );
  const applied = mapping.strategy === 'first-match' ? matching.slice(0, 1) : matching;
  const withRoles = applied.filter((r) => r.roles);
  const withResourceRoles = applied.filter((r) => r.resourceRoles);
  return {
    roles: withRoles.length > 0 ? unique(withRoles.flatMap((r) => r.roles ?? [])) : mapping.defaultRoles,
    resourceRoles:
      withResourceRoles.length > 0
        ? mergeResourceRoles(withResourceRoles.flatMap((r) => r.resourceRoles ?? []))
        : mapping.defaultResourceRoles,
    matchedRules: applied.map((r) => r.name),
  };
}

const unique = (roles: string[]): string[] => [...new Set(roles)];

function mergeResourceRoles(entries: ResourceRoles): ResourceRoles {
  const byType = new Map<string, string[]>();
  for (const entry of entries)
    byType.set(entry.resourceType, [...(byType.get(entry.resourceType) ?? []), ...entry.roles]);
  return [...byType].map(([resourceType, roles]) => ({ resourceType, roles: unique(roles) }));
}

/** The mapping used when none is configured: every new person is a tenant member. */
export const DEFAULT_ROLE_MAPPING: RoleMapping = loadRoleMapping({ default: ['tenant-member'] });
