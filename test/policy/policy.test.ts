import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCanonicalEvent } from '../../functions/core/events/canonical-event';
import { ValidationError } from '../../functions/core/events/validation-issues';
import {
  checkDomain,
  checkExplicitRoles,
  compilePolicy,
  describePolicy,
  ingestIssues,
  isProtected,
  type Policy,
} from '../../functions/core/policy/policy';
import { parseEffectivePolicy, resolvePolicy, rolesOfMapping } from '../../functions/core/policy/policy-file';
import { deriveRoles, loadRoleMapping } from '../../functions/core/roles/role-mapping';

const readJson = (path: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'));

const mapping = loadRoleMapping({
  default: ['tenant-member'],
  defaultResourceRoles: [{ resourceType: 'workspace', roles: ['workspace-viewer'] }],
  rules: [
    { name: 'leads', when: { title: '/^head of ml$/i' }, roles: ['tenant-admin'] },
    {
      name: 'infra',
      when: { department: 'SRE' },
      resourceRoles: [{ resourceType: 'cluster', roles: ['cluster-admin'] }],
    },
  ],
});

const STRICT = {
  allowedRoles: {
    tenant: ['tenant-member', 'tenant-viewer'],
    workspace: ['workspace-viewer', 'workspace-editor'],
  },
  explicitRoles: ['token', 'batch'],
  protectedAccounts: ['admin@example.com', 'svc-*@example.com'],
  allowedEmailDomains: ['example.com'],
};
const SAFE_MAPPING = loadRoleMapping({ default: ['tenant-member'] });
const strict = (): Policy =>
  compilePolicy(resolvePolicy({ content: STRICT, name: 'policy.json' }, SAFE_MAPPING));

const eventOf = (fields: Record<string, unknown> = {}, email = 'ada@example.com') => {
  const parsed = parseCanonicalEvent({
    id: 'evt-1',
    type: 'hire',
    occurredAt: '2026-11-02T09:00:00Z',
    employee: { id: 'E1', email },
    ...fields,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.event;
};

const errorOf = (fn: () => unknown): ValidationError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
};

describe('the policy file', () => {
  it.each([
    [{ allowedRoles: { tenant: [''] } }, 'allowedRoles.tenant.0: must not be empty'],
    [{ allowedRoles: ['tenant-member'] }, 'allowedRoles: must be a record'],
    [
      { explicitRoles: ['token', 'email'] },
      'explicitRoles.1: must be one of webhook, token, batch, bamboohr',
    ],
    [{ protectedAccounts: ['admin'] }, 'protectedAccounts.0: must be an email address, where * matches'],
    [{ allowedEmailDomains: ['@example.com'] }, 'allowedEmailDomains.0: must be a domain name'],
    [{ allowedEmailDomains: ['*.example.com'] }, 'allowedEmailDomains.0: must be a domain name'],
    [{ allowedEmailDomains: [] }, 'allowedEmailDomains: must list at least one domain'],
    [{ allowedRole: {} }, 'allowedRole: is not a known field'],
  ])('refuses %j naming the path', (content, message) => {
    const error = errorOf(() => resolvePolicy({ content, name: 'config/policy.json' }, mapping));
    expect(error.message).toContain('invalid policy config/policy.json');
    expect(error.message).toContain(message);
  });

  it('without a file: the ceiling is every role the mapping grants, per type; the rest is open', () => {
    expect(rolesOfMapping(mapping)).toEqual({
      tenant: ['tenant-member', 'tenant-admin'],
      workspace: ['workspace-viewer'],
      cluster: ['cluster-admin'],
    });
    const effective = resolvePolicy(undefined, mapping);
    expect(effective).toEqual({
      allowedRoles: rolesOfMapping(mapping),
      explicitRoles: ['webhook', 'token', 'batch', 'bamboohr', 'reconcile'],
      protectedAccounts: [],
    });
    expect(describePolicy(compilePolicy(effective))).toBe('none: ceiling = roles of the role mapping');
  });

  it('a file without allowedRoles keeps the mapping ceiling; other keys fall back one by one', () => {
    const effective = resolvePolicy(
      { content: { protectedAccounts: ['Root@Example.com'] }, name: 'p.json' },
      mapping,
    );
    expect(effective).toMatchObject({
      file: 'p.json',
      allowedRoles: rolesOfMapping(mapping),
      explicitRoles: ['webhook', 'token', 'batch', 'bamboohr', 'reconcile'],
      protectedAccounts: ['root@example.com'],
    });
    expect(effective.allowedEmailDomains).toBeUndefined();
  });

  it('a mapping rule granting a role above the ceiling is a configuration error naming the rule', () => {
    const error = errorOf(() => resolvePolicy({ content: STRICT, name: 'config/policy.json' }, mapping));
    expect(error.message).toContain(
      'the role mapping grants roles outside allowedRoles of the policy config/policy.json',
    );
    expect(error.issues).toEqual([
      {
        path: 'rules.0.roles',
        message:
          'rule "leads" grants tenant-admin (tenant), which allowedRoles.tenant does not allow (tenant-member, tenant-viewer)',
      },
      {
        path: 'rules.1.resourceRoles.0',
        message:
          'rule "infra" grants cluster-admin (cluster), which allowedRoles.cluster does not allow (none)',
      },
    ]);
  });

  it('the default grants are checked too', () => {
    const error = errorOf(() =>
      resolvePolicy(
        { content: { allowedRoles: { tenant: ['tenant-viewer'] } }, name: 'p.json' },
        SAFE_MAPPING,
      ),
    );
    expect(error.issues[0]).toMatchObject({
      path: 'default',
      message: expect.stringContaining('the default grants tenant-member'),
    });
  });

  it('the shipped example matches the shipped role mapping, and the anchored rule ignores a Head of Snacks', () => {
    const shipped = loadRoleMapping(readJson('config/role-mapping.json'));
    const effective = resolvePolicy(
      { content: readJson('config/policy.json'), name: 'config/policy.json' },
      shipped,
    );
    expect(effective.file).toBe('config/policy.json');
    const snacks = { id: 'E1', email: 'a@example.com', department: 'ML Platform', title: 'Head of Snacks' };
    expect(deriveRoles(shipped, snacks).roles).toEqual(['tenant-member']);
    expect(deriveRoles(shipped, { ...snacks, title: 'Head of ML' }).roles).toEqual(['tenant-admin']);
  });

  it('the effective policy survives the JSON trip synth makes, and a damaged one is refused', () => {
    const effective = resolvePolicy({ content: STRICT, name: 'policy.json' }, SAFE_MAPPING);
    expect(parseEffectivePolicy(JSON.parse(JSON.stringify(effective)))).toEqual(effective);
    const { explicitRoles: _, ...missing } = effective;
    expect(() => parseEffectivePolicy(missing)).toThrow(
      /invalid the bundled policy: explicitRoles: is required/,
    );
  });
});

describe('protected accounts', () => {
  it.each([
    ['admin@example.com', 'admin@example.com'],
    ['ADMIN@Example.COM', 'admin@example.com'],
    ['svc-deploy@example.com', 'svc-*@example.com'],
    ['svc-@example.com', 'svc-*@example.com'],
    ['svc-a.b+c@example.com', 'svc-*@example.com'],
  ])('%s is protected by %s', (email, pattern) => {
    expect(isProtected(strict(), email)).toBe(pattern);
  });

  it.each([
    'admin@example.org',
    'xadmin@example.com',
    'admin@example.com.evil.org',
    'svc@example.com',
    'svc-a@exampleXcom',
  ])('%s is not', (email) => {
    expect(isProtected(strict(), email)).toBeUndefined();
  });

  it('regular-expression characters in a pattern are literal', () => {
    const policy = compilePolicy(
      resolvePolicy({ content: { protectedAccounts: ['a+b(1)@x.io'] }, name: 'p' }, SAFE_MAPPING),
    );
    expect(isProtected(policy, 'a+b(1)@x.io')).toBe('a+b(1)@x.io');
    expect(isProtected(policy, 'aab1@x.io')).toBeUndefined();
  });
});

describe('ingest checks', () => {
  it('a domain matches exactly, case-insensitively; a subdomain is not its parent', () => {
    expect(checkDomain(strict(), 'ada@example.com')).toBeUndefined();
    expect(checkDomain(strict(), 'ada@EXAMPLE.com')).toBeUndefined();
    expect(checkDomain(strict(), 'ada@eu.example.com')).toEqual({
      path: 'employee.email',
      message: 'the domain eu.example.com is not allowed (allowedEmailDomains: example.com)',
    });
  });

  it('explicit roles above the ceiling are named with their place', () => {
    const event = eventOf({
      roles: ['tenant-member', 'tenant-admin'],
      resourceRoles: [{ resourceType: 'cluster', roles: ['cluster-admin'] }],
    });
    expect(checkExplicitRoles(strict(), event, 'token')).toEqual([
      {
        path: 'roles',
        message:
          'tenant-admin is not an allowed tenant role (allowed: tenant-member, tenant-viewer; allowedRoles.tenant of policy.json)',
      },
      {
        path: 'resourceRoles.0.roles',
        message:
          'cluster-admin is not an allowed cluster role (allowed: none; allowedRoles.cluster of policy.json)',
      },
    ]);
    expect(checkExplicitRoles(strict(), eventOf({ roles: ['tenant-viewer'] }), 'batch:b-1')).toEqual([]);
  });

  it('a source not in explicitRoles may not carry roles at all, not even an empty list', () => {
    for (const source of ['webhook', 'bamboohr', 'reconcile']) {
      expect(checkExplicitRoles(strict(), eventOf({ roles: [] }), source)).toEqual([
        {
          path: 'roles',
          message: `events from the ${source} source may not carry roles (explicitRoles: token, batch); leave roles out and the role mapping decides`,
        },
      ]);
    }
    expect(checkExplicitRoles(strict(), eventOf(), 'webhook')).toEqual([]);
  });

  it('without a file the message says where the ceiling comes from', () => {
    const open = compilePolicy(resolvePolicy(undefined, SAFE_MAPPING));
    expect(ingestIssues(open, eventOf({ roles: ['tenant-admin'] }, 'x@anywhere.org'), 'webhook')).toEqual([
      {
        path: 'roles',
        message:
          'tenant-admin is not an allowed tenant role (allowed: tenant-member; no policy file, so the ceiling is the roles the role mapping grants)',
      },
    ]);
  });

  it('all at once: domain and protected account', () => {
    const issues = ingestIssues(strict(), eventOf({}, 'svc-x@example.com'), 'token');
    expect(issues.map((i) => i.message)).toEqual([
      'svc-x@example.com is a protected account (protectedAccounts: svc-*@example.com): the pipeline never changes, deactivates or deletes it',
    ]);
    expect(ingestIssues(strict(), eventOf({}, 'ada@evil.org'), 'token').map((i) => i.message)).toEqual([
      'the domain evil.org is not allowed (allowedEmailDomains: example.com)',
    ]);
  });
});
