import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/events/validation-issues';
import { BambooHrApiError, type BambooHrDirectory } from '../../../functions/core/ingest/bamboohr/directory';
import { mapBambooHrWebhook } from '../../../functions/core/ingest/bamboohr/webhook';

const sample: unknown = JSON.parse(
  readFileSync(new URL('../../../samples/bamboohr-global-webhook.json', import.meta.url), 'utf8'),
);
const receivedAt = '2026-11-28T16:41:00Z';

/** An in-memory directory that records which employees were looked up. */
function directoryOf(
  employees: Record<string, Record<string, string>>,
  failWith?: Error,
): BambooHrDirectory & { lookedUp: string[] } {
  const lookedUp: string[] = [];
  return {
    lookedUp,
    async getEmployee(id) {
      lookedUp.push(id);
      if (failWith) throw failWith;
      return employees[id];
    },
  };
}

const alan = {
  'Employee #': 'E1003',
  'Work Email': 'Alan.Turing@Example.com',
  'First Name': 'Alan',
  'Last Name': 'Turing',
  'Job Title': 'Research Engineer',
  Department: 'ML Platform',
  Location: 'London',
  'Employment Status': 'Full-Time',
  Status: 'Active',
};

type Entry = {
  id: string;
  action: string;
  timestamp?: string;
  changedFields?: string[];
  fields?: Record<string, string>;
};
const payloadOf = (...employees: Entry[]) => ({ employees });
const updated = (changedFields: string[], fields: Record<string, string>, id = '4021'): Entry => ({
  id,
  action: 'Updated',
  timestamp: '2026-11-28T16:33:28+00:00',
  changedFields,
  fields: { 'Employee #': 'E1001', 'Work Email': 'ada.lovelace@example.com', ...fields },
});

async function typesOf(...employees: Entry[]) {
  const { events } = await mapBambooHrWebhook(payloadOf(...employees), { receivedAt });
  return events.map((e) => e.type);
}

async function validationErrorOf(payload: unknown): Promise<ValidationError> {
  const error = await mapBambooHrWebhook(payload, { receivedAt }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ValidationError))
    throw new Error(`expected a ValidationError, got ${String(error)}`);
  return error;
}

describe('mapBambooHrWebhook', () => {
  it('maps the sample delivery: a role change, an offboard and a hire found by look-up', async () => {
    const directory = directoryOf({ '4023': alan });
    const { events, skipped } = await mapBambooHrWebhook(sample, { directory, receivedAt });

    expect(skipped).toEqual([]);
    expect(directory.lookedUp).toEqual(['4023']);
    expect(events).toEqual([
      {
        id: expect.stringMatching(/^bamboohr-4021-updated-[0-9a-f]{16}$/),
        type: 'role_change',
        occurredAt: '2026-11-28T16:33:28.000Z',
        employee: {
          id: 'E1001',
          email: 'ada.lovelace@example.com',
          name: 'Ada Lovelace',
          department: 'ML Platform',
          title: 'Engineering Manager',
        },
      },
      {
        id: expect.stringMatching(/^bamboohr-4022-updated-[0-9a-f]{16}$/),
        type: 'offboard',
        occurredAt: '2026-11-28T16:35:02.000Z',
        employee: { id: 'E1002', email: 'grace.hopper@example.com' },
      },
      {
        id: expect.stringMatching(/^bamboohr-4023-created-[0-9a-f]{16}$/),
        type: 'hire',
        occurredAt: '2026-11-28T16:40:10.000Z',
        employee: {
          id: 'E1003',
          email: 'alan.turing@example.com',
          name: 'Alan Turing',
          department: 'ML Platform',
          title: 'Research Engineer',
          location: 'London',
          employmentType: 'Full-Time',
        },
      },
    ]);
    expect(events.every((e) => !('roles' in e))).toBe(true);
  });

  it('reads renamed fields through custom labels', async () => {
    const { events, skipped } = await mapBambooHrWebhook(
      payloadOf({
        id: '77',
        action: 'Updated',
        timestamp: '2026-11-28T16:33:28Z',
        changedFields: ['Role'],
        fields: { 'Staff ID': 'S-77', 'Company Email': 'lin@example.com', Role: 'Analyst', Team: 'Data' },
      }),
      {
        receivedAt,
        labels: {
          employeeNumber: 'Staff ID',
          workEmail: 'Company Email',
          jobTitle: 'Role',
          department: 'Team',
        },
      },
    );
    expect(skipped).toEqual([]);
    expect(events.map((e) => [e.type, e.employee])).toEqual([
      ['role_change', { id: 'S-77', email: 'lin@example.com', title: 'Analyst', department: 'Data' }],
    ]);
  });

  it('skips a Created entry when there is no directory to look it up in, saying what to configure', async () => {
    const { events, skipped } = await mapBambooHrWebhook(sample, { receivedAt });
    expect(events.map((e) => e.type)).toEqual(['role_change', 'offboard']);
    expect(skipped).toEqual([
      { employeeId: '4023', reason: expect.stringMatching(/configure the BambooHR API/) },
    ]);
  });

  it('offboards a Deleted employee found by look-up', async () => {
    const directory = directoryOf({ '4023': { ...alan, Status: 'Active' } });
    const { events, skipped } = await mapBambooHrWebhook(
      payloadOf({
        id: '4023',
        action: 'Deleted',
        timestamp: '2026-11-28T16:40:00Z',
        changedFields: [],
        fields: {},
      }),
      { directory, receivedAt },
    );
    expect(skipped).toEqual([]);
    expect(events).toEqual([
      expect.objectContaining({
        id: expect.stringMatching(/^bamboohr-4023-deleted-[0-9a-f]{16}$/),
        type: 'offboard',
        employee: expect.objectContaining({ id: 'E1003', email: 'alan.turing@example.com' }),
      }),
    ]);
  });

  it('skips a Deleted employee BambooHR no longer knows (404), saying what to do', async () => {
    const { events, skipped } = await mapBambooHrWebhook(
      payloadOf({
        id: '4099',
        action: 'Deleted',
        timestamp: '2026-11-28T16:40:00Z',
        changedFields: [],
        fields: {},
      }),
      { directory: directoryOf({}), receivedAt },
    );
    expect(events).toEqual([]);
    expect(skipped).toEqual([
      { employeeId: '4099', reason: expect.stringMatching(/no longer has .*404.*offboard/) },
    ]);
  });

  it('skips a Created employee the directory does not find', async () => {
    const { skipped } = await mapBambooHrWebhook(
      payloadOf({ id: '4099', action: 'Created', changedFields: [], fields: {} }),
      { directory: directoryOf({}), receivedAt },
    );
    expect(skipped).toEqual([
      { employeeId: '4099', reason: expect.stringMatching(/has no employee 4099 \(404\)/) },
    ]);
  });

  it('offboards on Status Inactive in any case, or on a termination date that changed', async () => {
    expect(await typesOf(updated(['Status'], { Status: 'INACTIVE' }))).toEqual(['offboard']);
    expect(await typesOf(updated(['Job Title'], { 'Job Title': 'CTO', Status: 'inactive' }))).toEqual([
      'offboard',
    ]);
    expect(await typesOf(updated(['Termination Date'], { 'Termination Date': '2026-11-28' }))).toEqual([
      'offboard',
    ]);
  });

  it('offboards from the start of a termination dated in the future, replacing a pending offboard', async () => {
    const { events, skipped, cancellations } = await mapBambooHrWebhook(
      payloadOf(updated(['Termination Date'], { 'Termination Date': '2026-12-31' })),
      { receivedAt },
    );
    expect(skipped).toEqual([]);
    expect(events).toEqual([
      expect.objectContaining({ type: 'offboard', effectiveAt: '2026-12-31T00:00:00.000Z' }),
    ]);
    expect(cancellations).toEqual([
      {
        employeeId: '4021',
        personKey: 'id:E1001',
        type: 'offboard',
        issuedUpTo: '2026-11-28T16:33:28.000Z',
        keep: events[0]?.id,
        by: 'BambooHR (termination date changed to 2026-12-31)',
      },
    ]);
  });

  it('makes no event for a termination date that was cleared, but cancels the pending offboard', async () => {
    const { events, skipped, cancellations } = await mapBambooHrWebhook(
      payloadOf(
        updated(['Termination Date'], { 'Termination Date': '' }),
        updated(['Termination Date'], { 'Termination Date': '0000-00-00' }),
      ),
      { receivedAt },
    );
    expect(events).toEqual([]);
    expect(skipped).toEqual([]);
    expect(cancellations.map((c) => [c.personKey, c.type, c.keep, c.by])).toEqual([
      ['id:E1001', 'offboard', undefined, 'BambooHR (termination date removed)'],
      ['id:E1001', 'offboard', undefined, 'BambooHR (termination date removed)'],
    ]);
  });

  it('hires on a status back to Active (rehire) and on Created; a new work email is an email change', async () => {
    expect(await typesOf(updated(['Work Email'], {}))).toEqual(['role_change']);
    expect(await typesOf(updated(['Status'], { Status: 'Active' }))).toEqual(['hire']);
    expect(
      await typesOf({ id: '5', action: 'Created', fields: { 'Work Email': 'new@example.com' } }),
    ).toEqual(['hire']);
  });

  it('changes roles on a new job title or department', async () => {
    expect(await typesOf(updated(['Department'], { Department: 'Research' }))).toEqual(['role_change']);
    expect(await typesOf(updated(['job title'], { 'Job Title': 'Lead' }))).toEqual(['role_change']);
  });

  it('skips changes to fields that do not drive provisioning, without looking anything up', async () => {
    const directory = directoryOf({ '4021': alan });
    const { events, skipped } = await mapBambooHrWebhook(
      payloadOf({
        id: '4021',
        action: 'Updated',
        changedFields: ['Location'],
        fields: { Location: 'Paris' },
      }),
      { directory, receivedAt },
    );
    expect(events).toEqual([]);
    expect(skipped).toEqual([
      { employeeId: '4021', reason: expect.stringMatching(/^no field that drives provisioning changed/) },
    ]);
    expect(directory.lookedUp).toEqual([]);
  });

  it('looks up the work email when the webhook did not post it, keeping the posted values', async () => {
    const entry: Entry = {
      id: '4023',
      action: 'Updated',
      timestamp: '2026-11-28T16:33:28Z',
      changedFields: ['Job Title'],
      fields: { 'Job Title': 'Principal Engineer' },
    };
    const withDirectory = await mapBambooHrWebhook(payloadOf(entry), {
      directory: directoryOf({ '4023': alan }),
      receivedAt,
    });
    expect(withDirectory.events.map((e) => [e.type, e.employee.email, e.employee.title])).toEqual([
      ['role_change', 'alan.turing@example.com', 'Principal Engineer'],
    ]);
    const withoutDirectory = await mapBambooHrWebhook(payloadOf(entry), { receivedAt });
    expect(withoutDirectory.skipped).toEqual([
      { employeeId: '4023', reason: expect.stringMatching(/did not post "Work Email"/) },
    ]);
  });

  it('skips an employee without a work email and an event that does not validate', async () => {
    const { 'Work Email': _, ...noEmail } = alan;
    const { events, skipped } = await mapBambooHrWebhook(
      payloadOf(
        { id: '1', action: 'Created', fields: {} },
        { id: '2', action: 'Created', fields: { 'Work Email': 'not-an-email' } },
      ),
      { directory: directoryOf({ '1': noEmail }), receivedAt },
    );
    expect(events).toEqual([]);
    expect(skipped).toEqual([
      { employeeId: '1', reason: expect.stringMatching(/has no "Work Email"/) },
      { employeeId: '2', reason: expect.stringMatching(/employee\.email: must be an email address/) },
    ]);
  });

  it('skips on a permanent directory error and rethrows a transient one, so the delivery is retried', async () => {
    const created = payloadOf({ id: '4023', action: 'Created', fields: {} });
    const unauthorized = new BambooHrApiError(
      'BambooHR GET employee "4023" failed: 401 Unauthorized',
      'http',
      401,
    );
    const { skipped } = await mapBambooHrWebhook(created, {
      directory: directoryOf({}, unauthorized),
      receivedAt,
    });
    expect(skipped).toEqual([
      { employeeId: '4023', reason: expect.stringMatching(/failed: .*401 Unauthorized/) },
    ]);

    const unavailable = new BambooHrApiError(
      'BambooHR GET employee "4023" failed: 503 Server Error',
      'http',
      503,
    );
    await expect(
      mapBambooHrWebhook(created, { directory: directoryOf({}, unavailable), receivedAt }),
    ).rejects.toBe(unavailable);
  });

  it('gives the same ids to the same delivery and different ids to a later change', async () => {
    const first = await mapBambooHrWebhook(sample, { directory: directoryOf({ '4023': alan }), receivedAt });
    const again = await mapBambooHrWebhook(structuredClone(sample), {
      directory: directoryOf({ '4023': { ...alan, 'Job Title': 'Changed since' } }),
      receivedAt: '2026-11-28T17:00:00Z',
    });
    expect(again.events.map((e) => e.id)).toEqual(first.events.map((e) => e.id));
    expect(new Set(first.events.map((e) => e.id)).size).toBe(3);

    const later = updated(['Job Title'], { 'Job Title': 'Engineering Manager' });
    const [a] = (await mapBambooHrWebhook(payloadOf(later), { receivedAt })).events;
    const [b] = (
      await mapBambooHrWebhook(payloadOf({ ...later, timestamp: '2026-11-29T09:00:00+00:00' }), {
        receivedAt,
      })
    ).events;
    expect(a?.id).toMatch(/^bamboohr-4021-updated-/);
    expect(b?.id).not.toBe(a?.id);
  });

  it('makes ids printable ASCII without spaces, at most 128 characters, whatever the BambooHR id', async () => {
    const id = `emp ${'ü/'.repeat(200)}`;
    const { events } = await mapBambooHrWebhook(
      payloadOf({ id, action: 'Created', fields: { 'Work Email': 'x@example.com', 'Employee #': 'E9' } }),
      { receivedAt },
    );
    expect(events[0]?.id).toMatch(/^[\x21-\x7e]{1,128}$/);
  });

  it('falls back to receivedAt when an entry has no usable timestamp', async () => {
    const entry = updated(['Work Email'], {});
    const { events } = await mapBambooHrWebhook(
      payloadOf({ ...entry, timestamp: undefined }, { ...entry, timestamp: '28/11/2026 16:33' }),
      { receivedAt },
    );
    expect(events.map((e) => e.occurredAt)).toEqual(['2026-11-28T16:41:00.000Z', '2026-11-28T16:41:00.000Z']);
  });

  it('rejects payloads of the wrong shape with a ValidationError naming the path', async () => {
    expect((await validationErrorOf({})).issues).toEqual([{ path: 'employees', message: 'is required' }]);
    expect((await validationErrorOf(null)).issues[0]?.path).toBe('');
    expect((await validationErrorOf({ employees: {} })).issues[0]?.path).toBe('employees');
    const moved = await validationErrorOf(payloadOf({ id: '1', action: 'Moved' }));
    expect(moved.issues).toEqual([
      { path: 'employees.0.action', message: 'must be one of Created, Updated, Deleted' },
    ]);
    expect(moved.message).toMatch(/^invalid BambooHR webhook payload: employees\.0\.action/);
    expect((await validationErrorOf({ employees: [{ action: 'Updated' }] })).issues[0]?.path).toBe(
      'employees.0.id',
    );
    expect(
      (await validationErrorOf({ employees: [{ id: '1', action: 'Updated', changedFields: 'Job Title' }] }))
        .issues[0]?.path,
    ).toBe('employees.0.changedFields');
    expect(
      (
        await validationErrorOf({
          employees: [{ id: '1', action: 'Updated', fields: { Department: { name: 'x' } } }],
        })
      ).issues[0]?.path,
    ).toBe('employees.0.fields.Department');
  });

  it('maps an empty delivery to nothing and refuses a receivedAt that is not a date-time', async () => {
    expect(await mapBambooHrWebhook({ employees: [] }, { receivedAt })).toEqual({
      events: [],
      skipped: [],
      entryIds: new Map(),
      cancellations: [],
    });
    await expect(mapBambooHrWebhook({ employees: [] }, { receivedAt: 'now' })).rejects.toThrow(/receivedAt/);
  });
});
