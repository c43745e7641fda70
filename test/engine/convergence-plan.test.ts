import { describe, expect, it } from 'vitest';
import {
  type DesiredState,
  type ObservedUser,
  observe,
  planConvergence,
} from '../../functions/core/engine/convergence-plan';

const present = (
  roles: string[],
  extra: Partial<Extract<DesiredState, { kind: 'present' }>> = {},
): DesiredState => ({
  kind: 'present',
  email: 'ada@example.com',
  reactivate: true,
  roles,
  resourceRoles: [],
  ...extra,
});
const offboarded = (deleteAfterOffboard = false): DesiredState => ({
  kind: 'offboarded',
  email: 'ada@example.com',
  deleteAfterOffboard,
});
const user = (active: boolean, tenantRoles: string[], resource: [string, string[]][] = []): ObservedUser => ({
  exists: true,
  id: 'usr_1',
  active,
  tenantRoles,
  resourceRoles: new Map(resource),
});
const missing: ObservedUser = { exists: false };
const keys = (desired: DesiredState, observed: ObservedUser, mode: 'register' | 'invite' = 'register') =>
  planConvergence(desired, observed, mode).steps.map((s) => s.key);

describe('planConvergence', () => {
  it('hire of someone unknown: create (by mode), then tenant and non-empty resource roles', () => {
    const desired = present(['tenant-member'], {
      resourceRoles: [
        { resourceType: 'workspace', roles: ['workspace-editor'] },
        { resourceType: 'cluster', roles: [] },
      ],
    });
    expect(planConvergence(desired, missing, 'register').steps).toEqual([
      { key: 'create', action: 'register' },
      { key: 'roles:tenant', action: 'set-roles', resourceType: 'tenant', roles: ['tenant-member'] },
      { key: 'roles:workspace', action: 'set-roles', resourceType: 'workspace', roles: ['workspace-editor'] },
    ]);
    expect(planConvergence(desired, missing, 'invite').steps[0]).toEqual({ key: 'create', action: 'invite' });
  });

  it('someone already in the wanted state gets an empty plan', () => {
    const plan = planConvergence(present(['b', 'a']), user(true, ['a', 'b']), 'register');
    expect(plan).toEqual({ steps: [], note: 'already in the wanted state' });
  });

  it('updates only the resource types whose roles differ', () => {
    const desired = present(['tenant-member'], {
      resourceRoles: [
        { resourceType: 'workspace', roles: ['workspace-editor'] },
        { resourceType: 'cluster', roles: ['cluster-viewer'] },
      ],
    });
    const observed = user(
      true,
      ['tenant-member'],
      [
        ['workspace', ['workspace-editor']],
        ['cluster', ['cluster-admin']],
        ['mlf-project', ['mlf-project-admin']],
      ],
    );
    expect(keys(desired, observed)).toEqual(['roles:cluster']);
  });

  it('rehire: a hire of a deactivated user activates, then fixes roles', () => {
    expect(keys(present(['tenant-admin']), user(false, ['tenant-member']))).toEqual([
      'activate',
      'roles:tenant',
    ]);
    expect(keys(present(['tenant-member']), user(false, ['tenant-member']))).toEqual(['activate']);
  });

  it('a role change never reactivates a deactivated user', () => {
    const plan = planConvergence(
      present(['tenant-admin'], { reactivate: false }),
      user(false, []),
      'register',
    );
    expect(plan.steps).toEqual([]);
    expect(plan.note).toMatch(/only a hire reactivates/);
  });

  it('a role change of someone unknown creates them: HR says they work here', () => {
    expect(keys(present(['tenant-admin'], { reactivate: false }), missing)).toEqual([
      'create',
      'roles:tenant',
    ]);
  });

  it('offboard: deactivate an active user; nothing for an inactive or unknown one', () => {
    expect(keys(offboarded(), user(true, ['tenant-member']))).toEqual(['deactivate']);
    expect(planConvergence(offboarded(), user(false, []), 'register')).toEqual({
      steps: [],
      note: 'already deactivated',
    });
    expect(planConvergence(offboarded(), missing, 'register')).toEqual({
      steps: [],
      note: 'not in TrueFoundry: nothing to offboard',
    });
  });

  it('offboard with delete configured: deactivate then delete, or delete alone when already inactive', () => {
    expect(planConvergence(offboarded(true), user(true, []), 'register').steps).toEqual([
      { key: 'deactivate', action: 'deactivate' },
      { key: 'delete', action: 'delete', userId: 'usr_1' },
    ]);
    expect(keys(offboarded(true), user(false, []))).toEqual(['delete']);
  });
});

describe('observe', () => {
  it('reads tenant roles from roles and resource roles from rolesWithResource, ignoring tenant entries', () => {
    const observed = observe({
      id: 'u1',
      email: 'ada@example.com',
      tenantName: 't',
      metadata: {},
      roles: ['tenant-admin'],
      rolesWithResource: [
        { roleId: 'r1', resourceType: 'tenant', resourceId: 't', roleName: 'tenant-admin' },
        { roleId: 'r2', resourceType: 'workspace', resourceId: 'w1', roleName: 'workspace-editor' },
        { roleId: 'r3', resourceType: 'workspace', resourceId: 'w2', roleName: 'workspace-viewer' },
      ],
      active: true,
      isEditable: true,
      createdAt: '',
      updatedAt: '',
    });
    expect(observed).toEqual({
      exists: true,
      id: 'u1',
      active: true,
      tenantRoles: ['tenant-admin'],
      resourceRoles: new Map([['workspace', ['workspace-editor', 'workspace-viewer']]]),
    });
    expect(observe(undefined)).toEqual({ exists: false });
  });
});
