import { desiredStateOf, observe, planConvergence } from '../engine/convergence-plan';
import type { UsersApiProvider } from '../engine/ports';
import { normaliseEmail } from '../events/identity';
import type { RoleMapping } from '../roles/role-mapping';
import type { User } from '../truefoundry/api-contract';
import { TrueFoundryUnauthorizedError } from '../truefoundry/errors';
import type { IgnoreMatcher } from './ignore';
import type { RosterEntry } from './roster';

/*
 * The comparison of a roster with TrueFoundry: who should have access and has none (or a deactivated
 * account), who has access and is not on the roster, and whose roles differ from what the worker would set.
 * Roles are worked out by the worker's own rules (desiredStateOf and planConvergence), so a person the
 * report calls drifted is exactly a person a role change would write to.
 */

export type MissingReason = 'not in TrueFoundry' | 'deactivated';

/** The report of POST /reconcile, exactly: every list sorted by email, so equal inputs give equal text. */
export type ReconcileReport = {
  missing: { email: string; reason: MissingReason }[];
  orphans: { email: string; roles: string[] }[];
  roleDrift: { email: string; resourceType: string; want: string[]; have: string[] }[];
  ignored: string[];
};

/** The report and the roster entries behind its `missing` and `roleDrift`, by email (to apply it). */
export type Comparison = { report: ReconcileReport; entryOf: ReadonlyMap<string, RosterEntry> };

/** A TrueFoundry page; more than the client's default, fewer calls for a large tenant. */
const PAGE_SIZE = 100;

/**
 * Every TrueFoundry user, page after page, deactivated ones included. A 401 re-reads the credentials once
 * (the key may have been rotated) and starts over, as the worker does.
 */
export async function listEveryUser(provider: UsersApiProvider): Promise<User[]> {
  try {
    return await listPages(provider, false);
  } catch (error) {
    if (error instanceof TrueFoundryUnauthorizedError) return listPages(provider, true);
    throw error;
  }
}

async function listPages(provider: UsersApiProvider, fresh: boolean): Promise<User[]> {
  const api = fresh ? await provider.refresh() : await provider.get();
  const users: User[] = [];
  for (let offset = 0; ; ) {
    const page = await api.list({ limit: PAGE_SIZE, offset, showInvalidUsers: true });
    users.push(...page.data);
    // As the SDKs page: on while a page comes back full.
    if (page.data.length < PAGE_SIZE) return users;
    offset += page.data.length;
  }
}

/** The email of a TrueFoundry account as the pipeline compares emails (identity.ts). */
export function accountEmailOf(user: Pick<User, 'email'>): string {
  const checked = normaliseEmail(user.email);
  return checked.ok ? checked.email : user.email.normalize('NFC').trim().toLowerCase();
}

/** Compares the roster with TrueFoundry's users by the worker's rules; see ReconcileReport. */
export function compareRoster(
  roster: readonly RosterEntry[],
  users: readonly User[],
  options: { roleMapping: RoleMapping; ignore: IgnoreMatcher },
): Comparison {
  const ignored = new Set<string>();
  const accounts = new Map<string, User>();
  for (const user of users) {
    const email = accountEmailOf(user);
    if (options.ignore(email)) {
      ignored.add(email);
      continue;
    }
    // Two accounts under one address (differing only in case): the active one is the one with access.
    const known = accounts.get(email);
    if (!known || (!known.active && user.active)) accounts.set(email, user);
  }

  const report: ReconcileReport = { missing: [], orphans: [], roleDrift: [], ignored: [] };
  const entryOf = new Map<string, RosterEntry>();
  for (const entry of roster) {
    const email = entry.event.employee.email;
    if (options.ignore(email)) {
      ignored.add(email);
      continue;
    }
    entryOf.set(email, entry);
    const user = accounts.get(email);
    if (!user?.active) {
      report.missing.push({ email, reason: user ? 'deactivated' : 'not in TrueFoundry' });
      continue;
    }
    const observed = observe(user);
    const desired = desiredStateOf(entry.event, options.roleMapping, { deleteAfterOffboard: false });
    for (const step of planConvergence(desired, observed, 'register').steps) {
      if (step.action !== 'set-roles' || !observed.exists) continue;
      const have =
        step.resourceType === 'tenant'
          ? observed.tenantRoles
          : (observed.resourceRoles.get(step.resourceType) ?? []);
      report.roleDrift.push({
        email,
        resourceType: step.resourceType,
        want: sortedUnique(step.roles),
        have: sortedUnique(have),
      });
    }
  }
  for (const [email, user] of accounts) {
    if (user.active && !entryOf.has(email)) {
      report.orphans.push({ email, roles: sortedUnique(user.roles ?? []) });
    }
  }
  report.missing.sort(byEmail);
  report.orphans.sort(byEmail);
  report.roleDrift.sort((a, b) => byEmail(a, b) || compare(a.resourceType, b.resourceType));
  report.ignored = [...ignored].sort(compare);
  return { report, entryOf };
}

// Code-unit order, not locale order: the same on every machine.
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byEmail = (a: { email: string }, b: { email: string }): number => compare(a.email, b.email);
const sortedUnique = (values: readonly string[]): string[] => [...new Set(values)].sort(compare);
