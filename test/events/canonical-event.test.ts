import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCanonicalEvent } from '../../functions/core/events/canonical-event';
import { employeeKeyOf } from '../../functions/core/events/identity';

const valid = {
  id: 'evt-1',
  type: 'hire',
  occurredAt: '2026-11-29T09:00:00Z',
  employee: { id: 'E1001', email: 'ada@example.com', name: 'Ada Lovelace' },
  roles: ['tenant-member'],
};

function issuesOf(input: unknown) {
  const result = parseCanonicalEvent(input);
  if (result.ok) throw new Error('expected the event to be rejected');
  return result.issues;
}

describe('parseCanonicalEvent', () => {
  it('accepts every sample event', () => {
    const lines = readFileSync(new URL('../../samples/events.jsonl', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    for (const line of lines) expect(parseCanonicalEvent(JSON.parse(line)).ok).toBe(true);
  });

  it('normalises: trimmed, NFC, lower-cased email, UTC timestamp, roles without duplicates', () => {
    const result = parseCanonicalEvent({
      ...valid,
      occurredAt: '2026-11-29T10:00:00+01:00',
      employee: { id: ' E1 ', email: '  Grace.Hopper@Example.COM ', name: 'Sea\u0301n', department: ' ' },
      roles: [' tenant-admin', 'tenant-admin', 'tenant-member '],
    });
    expect(result).toEqual({
      ok: true,
      event: {
        id: 'evt-1',
        type: 'hire',
        occurredAt: '2026-11-29T09:00:00.000Z',
        employee: { id: 'E1', email: 'grace.hopper@example.com', name: 'Se\u00e1n' },
        roles: ['tenant-admin', 'tenant-member'],
      },
    });
  });

  it('keeps resource roles and free attributes', () => {
    const result = parseCanonicalEvent({
      ...valid,
      employee: { ...valid.employee, attributes: { costCenter: 'CC-7', level: 5, contractor: false } },
      resourceRoles: [{ resourceType: 'workspace', roles: ['workspace-editor'] }],
    });
    expect(result.ok && result.event.resourceRoles).toEqual([
      { resourceType: 'workspace', roles: ['workspace-editor'] },
    ]);
    expect(result.ok && result.event.employee.attributes).toEqual({
      costCenter: 'CC-7',
      level: 5,
      contractor: false,
    });
  });

  it.each([
    ['a missing email', { ...valid, employee: { id: 'E1' } }, 'employee.email', 'is required'],
    [
      'an email that is not one',
      { ...valid, employee: { id: 'E1', email: 'ada.example.com' } },
      'employee.email',
      'must be an email address',
    ],
    [
      'an unknown type',
      { ...valid, type: 'promotion' },
      'type',
      'must be one of hire, role_change, offboard',
    ],
    ['a date without zone', { ...valid, occurredAt: '2026-11-29T09:00:00' }, 'occurredAt', 'with a zone'],
    ['a malformed date', { ...valid, occurredAt: 'yesterday' }, 'occurredAt', 'ISO-8601'],
    ['roles that are not strings', { ...valid, roles: ['a', 3] }, 'roles.1', 'must be a string (got number)'],
    [
      'roles that are not a list',
      { ...valid, roles: 'tenant-admin' },
      'roles',
      'must be an array (got string)',
    ],
    ['a missing id', { ...valid, id: undefined }, 'id', 'is required'],
    ['an id with spaces', { ...valid, id: 'evt 1' }, 'id', 'printable ASCII'],
    ['an unknown field', { ...valid, role: ['x'] }, 'role', 'is not a known field'],
    [
      'an empty employee id',
      { ...valid, employee: { id: ' ', email: 'a@b.co' } },
      'employee.id',
      'must not be empty',
    ],
  ])('rejects %s, naming the field', (_name, input, path, message) => {
    const issues = issuesOf(input);
    expect(issues).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('reports every wrong field at once', () => {
    const issues = issuesOf({ id: 'e', type: 'x', occurredAt: 'y', employee: { id: 'E1', email: 'no' } });
    expect(issues.map((i) => i.path).sort()).toEqual(['employee.email', 'occurredAt', 'type']);
  });

  it('rejects a body that is not an object', () => {
    expect(issuesOf('hello')).toEqual([{ path: '', message: 'must be an object (got string)' }]);
  });
});

describe('employeeKeyOf', () => {
  it('is the email when SQS accepts it as a group id, a hash otherwise', () => {
    expect(employeeKeyOf('ada@example.com')).toBe('ada@example.com');
    expect(employeeKeyOf('søren@example.com')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(employeeKeyOf(`${'a'.repeat(130)}@x.io`)).toMatch(/^sha256:/);
  });
});
