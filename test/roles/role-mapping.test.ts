import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Employee } from '../../functions/core/events/canonical-event';
import { ValidationError } from '../../functions/core/events/validation-issues';
import { deriveRoles, loadRoleMapping } from '../../functions/core/roles/role-mapping';

const employee = (fields: Partial<Employee>): Employee => ({ id: 'E1', email: 'a@example.com', ...fields });

describe('loadRoleMapping', () => {
  it('loads the sample sketch and the project default file', () => {
    const sample = JSON.parse(
      readFileSync(new URL('../../samples/role-mapping.json', import.meta.url), 'utf8'),
    );
    expect(loadRoleMapping(sample).rules).toHaveLength(2);
    const projectDefault = JSON.parse(
      readFileSync(new URL('../../config/role-mapping.json', import.meta.url), 'utf8'),
    );
    expect(() => loadRoleMapping(projectDefault)).not.toThrow();
  });

  it.each([
    [{ rules: [] }, 'default: is required'],
    [{ default: [] }, 'default: must list at least one role'],
    [
      { default: ['m'], rules: [{ when: { title: '/[a-/' }, roles: ['x'] }] },
      'rules.0.when.title: is not a valid regular expression',
    ],
    [{ default: ['m'], rules: [{ when: { team: 'x' }, roles: ['x'] }] }, 'rules.0.when.team'],
    [{ default: ['m'], rules: [{ when: {}, roles: ['x'] }] }, 'rules.0.when: must test at least one field'],
    [{ default: ['m'], rules: [{ when: { title: 'x' } }] }, 'rules.0: must give roles or resourceRoles'],
    [{ default: ['m'], strategy: 'best' }, 'strategy'],
    [{ default: ['m'], extra: 1 }, 'extra: is not a known field'],
  ])('rejects %j with a message naming the place', (input, message) => {
    expect(() => loadRoleMapping(input, 'role-mapping.json')).toThrow(ValidationError);
    expect(() => loadRoleMapping(input, 'role-mapping.json')).toThrow(message);
    expect(() => loadRoleMapping(input, 'role-mapping.json')).toThrow(/invalid role-mapping.json/);
  });
});

describe('deriveRoles', () => {
  const rules = {
    default: ['tenant-member'],
    defaultResourceRoles: [{ resourceType: 'workspace', roles: ['workspace-viewer'] }],
    rules: [
      {
        name: 'ml-leads',
        when: { department: 'ML Platform', title: '/manager|director|head/i' },
        roles: ['tenant-admin'],
      },
      {
        name: 'infra',
        when: { department: ['Infrastructure', 'SRE'] },
        roles: ['tenant-member'],
        resourceRoles: [{ resourceType: 'cluster', roles: ['cluster-admin'] }],
      },
      { name: 'contractors', when: { employmentType: 'contractor' }, roles: ['tenant-viewer'] },
      {
        name: 'cost-center',
        when: { 'attributes.costCenter': 'CC-7' },
        resourceRoles: [{ resourceType: 'workspace', roles: ['workspace-editor'] }],
      },
    ],
  };

  it('first-match: the first matching rule decides; all its conditions must match', () => {
    const mapping = loadRoleMapping(rules);
    expect(
      deriveRoles(mapping, employee({ department: 'ML Platform', title: 'Engineering Manager' })),
    ).toMatchObject({
      roles: ['tenant-admin'],
      matchedRules: ['ml-leads'],
    });
    expect(deriveRoles(mapping, employee({ department: 'ML Platform', title: 'Engineer' })).roles).toEqual([
      'tenant-member',
    ]);
  });

  it('matches exact values case-insensitively and lists as any-of', () => {
    const mapping = loadRoleMapping(rules);
    const derived = deriveRoles(mapping, employee({ department: 'sre' }));
    expect(derived).toMatchObject({
      roles: ['tenant-member'],
      resourceRoles: [{ resourceType: 'cluster', roles: ['cluster-admin'] }],
    });
  });

  it('falls back to the defaults when nothing matches', () => {
    expect(deriveRoles(loadRoleMapping(rules), employee({ department: 'Finance' }))).toEqual({
      roles: ['tenant-member'],
      resourceRoles: [{ resourceType: 'workspace', roles: ['workspace-viewer'] }],
      matchedRules: [],
    });
  });

  it('union: every matching rule adds roles, resource roles merge by type', () => {
    const mapping = loadRoleMapping({ ...rules, strategy: 'union' });
    const derived = deriveRoles(
      mapping,
      employee({
        department: 'Infrastructure',
        employmentType: 'Contractor',
        attributes: { costCenter: 'CC-7' },
      }),
    );
    expect(derived.roles).toEqual(['tenant-member', 'tenant-viewer']);
    expect(derived.resourceRoles).toEqual([
      { resourceType: 'cluster', roles: ['cluster-admin'] },
      { resourceType: 'workspace', roles: ['workspace-editor'] },
    ]);
    expect(derived.matchedRules).toEqual(['infra', 'contractors', 'cost-center']);
  });
});
