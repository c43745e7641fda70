import type { ResourceRoles } from '../../events/canonical-event';

const ROLE_SEPARATOR = ';';
const RESOURCE_SEPARATOR = '|';
const TYPE_SEPARATOR = ':';

/**
 * `roles` cell: role names separated by `;`, e.g. `tenant-member;tenant-admin`. Empty pieces (a trailing
 * `;` from a spreadsheet formula) are dropped; the canonical parse removes repeats.
 */
export function parseRolesCell(cell: string): string[] {
  return cell
    .split(ROLE_SEPARATOR)
    .map((role) => role.trim())
    .filter((role) => role !== '');
}

export type ResourceRolesCell = { ok: true; resourceRoles: ResourceRoles } | { ok: false; message: string };

/**
 * `resource_roles` cell: one entry per resource type, entries separated by `|`, each entry
 * `<resource type>:<role>;<role>`. Example: `workspace:viewer;editor|cluster:admin` gives
 * `[{ resourceType: 'workspace', roles: ['viewer', 'editor'] }, { resourceType: 'cluster', roles: ['admin'] }]`.
 * `workspace:` (no roles) is kept as an empty list. `|` and `:` were chosen because `;` already separates
 * roles and `,` would need quoting in a CSV cell.
 */
export function parseResourceRolesCell(cell: string): ResourceRolesCell {
  const resourceRoles: ResourceRoles = [];
  for (const entry of cell.split(RESOURCE_SEPARATOR)) {
    if (entry.trim() === '') continue;
    const colon = entry.indexOf(TYPE_SEPARATOR);
    const resourceType = colon === -1 ? '' : entry.slice(0, colon).trim();
    if (resourceType === '') {
      return {
        ok: false,
        message: `"${entry.trim()}" must be <resource type>:<role>;<role>, entries separated by |`,
      };
    }
    resourceRoles.push({ resourceType, roles: parseRolesCell(entry.slice(colon + 1)) });
  }
  return { ok: true, resourceRoles };
}
