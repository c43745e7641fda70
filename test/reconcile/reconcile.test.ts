import { describe, expect, it } from 'vitest';
import { createMemoryStateStore } from '../../functions/core/adapters/memory';
import { convergeEvent } from '../../functions/core/engine/converge-event';
import { parseCanonicalEvent } from '../../functions/core/events/canonical-event';
import type { IngestDeps } from '../../functions/core/ingest/ingest-deps';
import { compilePolicy } from '../../functions/core/policy/policy';
import { resolvePolicy } from '../../functions/core/policy/policy-file';
import { CredentialedUsersApiProvider } from '../../functions/core/truefoundry/credentials';
import { engineFor, testConfig, testRoleMapping } from '../support/engine-harness';
import { bearer, ingestFor } from '../support/ingest-harness';
import { useSandbox } from '../support/sandbox';

/*
 * Reconciliation against the sandbox over real HTTP: a seeded TrueFoundry and a roster give the exact report;
 * applied, the events it submits converge TrueFoundry, and a second reconcile finds nothing left.
 */

const sandbox = useSandbox();
const IGNORE = ['svc-*@example.com', 'ops?@example.com'];
/** More users than one page holds, all on the roster: a reconcile that read one page would call them missing. */
const FILLERS = Array.from({ length: 130 }, (_, i) => `filler${String(i).padStart(3, '0')}@example.com`);

function seed() {
  const s = sandbox();
  s.seedUser({ email: 'keep@example.com', roles: ['tenant-member'] });
  s.seedUser({ email: 'drift@example.com', roles: ['tenant-admin'] });
  s.seedUser({ email: 'gone@example.com', roles: ['tenant-member'], active: false });
  s.seedUser({ email: 'orphan@example.com', roles: ['tenant-viewer', 'tenant-member'] });
  s.seedUser({ email: 'old@example.com', roles: ['tenant-member'], active: false });
  s.seedUser({ email: 'svc-bot@example.com', roles: ['tenant-admin'] });
  s.seedUser({ email: 'ops1@example.com', roles: ['tenant-admin'] });
  for (const email of FILLERS) s.seedUser({ email, roles: ['tenant-member'] });
}

const ROSTER = [
  'email,employee_id,name,roles,resource_roles',
  // Case differs from TrueFoundry's: emails compare normalised.
  'Keep@Example.com,E1,Keep,,',
  'drift@example.com,E2,Drift,tenant-member,workspace:workspace-viewer',
  'gone@example.com,E3,Gone,,',
  'new@example.com,E4,New,,',
  'ops2@example.com,E5,Ops,,',
  ...FILLERS.map((email, i) => `${email},F${i},Filler,,`),
].join('\n');

const EXPECTED_REPORT = {
  missing: [
    { email: 'gone@example.com', reason: 'deactivated' },
    { email: 'new@example.com', reason: 'not in TrueFoundry' },
  ],
  orphans: [{ email: 'orphan@example.com', roles: ['tenant-member', 'tenant-viewer'] }],
  roleDrift: [
    { email: 'drift@example.com', resourceType: 'tenant', want: ['tenant-member'], have: ['tenant-admin'] },
    { email: 'drift@example.com', resourceType: 'workspace', want: ['workspace-viewer'], have: [] },
  ],
  ignored: ['ops1@example.com', 'ops2@example.com', 'svc-bot@example.com'],
};

function reconcilingIngest(overrides: Partial<IngestDeps> = {}) {
  const state = createMemoryStateStore();
  const api = new CredentialedUsersApiProvider(
    async () => ({ baseUrl: sandbox().url, apiKey: sandbox().apiKey }),
    {
      timeoutMs: 2_000,
      retry: { baseDelayMs: 1, maxAttempts: 2 },
    },
  );
  const ingest = ingestFor({
    store: state.events,
    trueFoundry: { api, config: testConfig() },
    reconcile: { ignore: IGNORE, ownerOf: (email) => state.people.ownerOf(email) },
    ...overrides,
  });
  return { ...ingest, state };
}

const reconcile = (roster: string, query: Record<string, string> = {}, contentType = 'text/csv') => ({
  method: 'POST',
  path: '/reconcile',
  query,
  headers: { 'content-type': contentType, ...bearer() },
  body: Buffer.from(roster),
});

const writes = () =>
  sandbox()
    .calls()
    .filter((c) => c.method !== 'GET');

describe('POST /reconcile', () => {
  it('answers the exact report: missing, deactivated, orphans, drift, ignored', async () => {
    seed();
    const ingest = reconcilingIngest();
    const response = await ingest.call(reconcile(ROSTER));
    expect(response.status).toBe(200);
    expect(response.json).toEqual(EXPECTED_REPORT);
    // It read every page, deactivated users included, and wrote nothing.
    const lists = sandbox()
      .calls()
      .filter((c) => c.method === 'GET');
    expect(lists.length).toBeGreaterThan(1);
    expect(lists.every((c) => c.query.showInvalidUsers === 'true')).toBe(true);
    expect(writes()).toEqual([]);
    expect(ingest.queue.sent).toEqual([]);
  });

  it('with apply=false answers the report and submits nothing', async () => {
    seed();
    const ingest = reconcilingIngest();
    const response = await ingest.call(reconcile(ROSTER, { apply: 'false' }));
    expect(response.json).toEqual(EXPECTED_REPORT);
    expect(ingest.queue.sent).toEqual([]);
  });

  it('applied, submits hires, role changes and offboards from `reconcile`; once run, nothing is left', async () => {
    seed();
    const ingest = reconcilingIngest();
    const response = await ingest.call(reconcile(ROSTER, { apply: 'true' }));
    expect(response.status).toBe(200);
    const { applied, refused, ...report } = response.json as typeof response.json & {
      applied: { id: string; type: string; email: string }[];
      refused: unknown[];
    };
    expect(report).toEqual(EXPECTED_REPORT);
    expect(refused).toEqual([]);
    expect(applied.map(({ type, email }) => `${type} ${email}`).sort()).toEqual([
      'hire gone@example.com',
      'hire new@example.com',
      'offboard orphan@example.com',
      'role_change drift@example.com',
    ]);
    for (const { id, type } of applied)
      expect(id).toMatch(new RegExp(`^reconcile-\\d{8}T\\d{6}Z-[0-9a-f]{12}-${type}-[0-9a-f]{16}$`));
    // Submitted as any sender's events are: recorded under the source `reconcile`, queued.
    expect(ingest.queue.sent.map((m) => m.eventId).sort()).toEqual(applied.map((a) => a.id).sort());
    for (const { id } of applied) expect((await ingest.state.events.get(id))?.source).toBe('reconcile');
    // The hire carries the roster's person: the employee id, for the queue group and the person's history.
    const hire = await ingest.state.events.get(applied.find((a) => a.email === 'new@example.com')!.id);
    expect(hire?.event.employee).toMatchObject({ id: 'E4', email: 'new@example.com', name: 'New' });

    // The worker runs them; TrueFoundry then matches the roster.
    const engine = engineFor(sandbox(), { store: ingest.state });
    for (const message of ingest.queue.sent) {
      const record = await ingest.state.events.get(message.eventId);
      expect((await convergeEvent(record!.event, engine.deps)).status).toBe('succeeded');
    }
    const again = await ingest.call(reconcile(ROSTER));
    expect(again.json).toEqual({ missing: [], orphans: [], roleDrift: [], ignored: EXPECTED_REPORT.ignored });
    // Ignored accounts were never touched.
    const touched = writes().map((c) => JSON.stringify(c.body));
    expect(touched.filter((body) => /svc-bot|ops1|ops2/.test(body))).toEqual([]);
  });

  it('an orphan the pipeline provisioned is offboarded as its person, every account they hold', async () => {
    const ingest = reconcilingIngest();
    const engine = engineFor(sandbox(), { store: ingest.state });
    for (const [id, email, at] of [
      ['h1', 'leaver@example.com', '2026-01-01T00:00:00Z'],
      ['h2', 'leaver.new@example.com', '2026-02-01T00:00:00Z'],
    ] as const) {
      const hire = parseCanonicalEvent({ id, type: 'hire', occurredAt: at, employee: { id: 'E77', email } });
      if (!hire.ok) throw new Error('bad test event');
      await ingest.state.events.accept(hire.event, { source: 'token', at, sequence: id === 'h1' ? 1 : 2 });
      expect((await convergeEvent(hire.event, engine.deps)).status).toBe('succeeded');
    }
    sandbox().seedUser({ email: 'stays@example.com', roles: ['tenant-member'] });
    const response = await ingest.call(reconcile('email\nstays@example.com\n', { apply: 'true' }));
    const applied = response.json.applied as { id: string; email: string }[];
    expect(applied.map((a) => a.email)).toEqual(['leaver.new@example.com']);
    expect((await ingest.state.events.get(applied[0]!.id))?.event.employee.id).toBe('E77');
  });

  it('applied under a policy, a protected orphan is refused with the reason and the rest is submitted', async () => {
    seed();
    sandbox().seedUser({ email: 'admin@example.com', roles: ['tenant-admin'] });
    const policy = compilePolicy(
      resolvePolicy(
        {
          content: {
            allowedRoles: { tenant: ['tenant-member', 'tenant-admin'], workspace: ['workspace-viewer'] },
            protectedAccounts: ['admin@example.com'],
          },
          name: 'policy.json',
        },
        testRoleMapping,
      ),
    );
    const ingest = reconcilingIngest({ policy });
    const response = await ingest.call(reconcile(ROSTER, { apply: 'true' }));
    expect(response.json.orphans).toEqual([
      { email: 'admin@example.com', roles: ['tenant-admin'] },
      EXPECTED_REPORT.orphans[0],
    ]);
    expect(response.json.refused).toEqual([
      expect.objectContaining({
        type: 'offboard',
        email: 'admin@example.com',
        reason: expect.stringMatching(/protected account/),
      }),
    ]);
    expect((response.json.applied as { email: string }[]).map((a) => a.email)).not.toContain(
      'admin@example.com',
    );
    expect(ingest.queue.sent).toHaveLength(4);
  });
});
