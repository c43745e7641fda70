import { describe, expect, it } from 'vitest';
import type { IngestRequest } from '../../functions/core/ingest/http';
import type { IngestDeps } from '../../functions/core/ingest/ingest-deps';
import { MAX_PREVIEW_EVENTS } from '../../functions/core/ingest/preview-response';
import { compilePolicy } from '../../functions/core/policy/policy';
import { type PolicyFile, resolvePolicy } from '../../functions/core/policy/policy-file';
import { loadRoleMapping } from '../../functions/core/roles/role-mapping';
import { CredentialedUsersApiProvider } from '../../functions/core/truefoundry/credentials';
import type { Sandbox } from '../../sandbox';
import { testConfig } from '../support/engine-harness';
import { bearer, ingestFor } from '../support/ingest-harness';
import { useSandbox } from '../support/sandbox';
import { expectNoSecretsInResponses, expectNothingRecorded } from './ingest-assertions';

/*
 * `?dryRun=true` on POST /events and POST /batch: the route's own parsing, validation and refusals, then the
 * worker's plan against the sandbox (over HTTP) instead of accepting: nothing recorded, no sequence reserved,
 * nothing enqueued, no TrueFoundry write.
 */

expectNoSecretsInResponses();
const sandboxOf = useSandbox();

const POLICY: PolicyFile = {
  allowedRoles: { tenant: ['tenant-member', 'tenant-viewer'] },
  explicitRoles: ['token', 'batch'],
  protectedAccounts: ['admin@example.com'],
};
const policy = compilePolicy(
  resolvePolicy({ content: POLICY, name: 'policy.json' }, loadRoleMapping({ default: ['tenant-member'] })),
);

function previewIngest(sandbox: Sandbox, overrides: Partial<IngestDeps> = {}) {
  return ingestFor({
    policy,
    trueFoundry: {
      api: new CredentialedUsersApiProvider(async () => ({ baseUrl: sandbox.url, apiKey: sandbox.apiKey }), {
        timeoutMs: 2_000,
        retry: { baseDelayMs: 1, maxAttempts: 2 },
      }),
      config: testConfig({ policy }),
    },
    ...overrides,
  });
}

const post = (
  path: string,
  body: string,
  contentType: string,
  query: Record<string, string> = { dryRun: 'true' },
): Partial<IngestRequest> & { method: string; path: string } => ({
  method: 'POST',
  path,
  query,
  headers: { ...bearer(), 'content-type': contentType },
  body: Buffer.from(body),
});

async function expectNoTrace(ingest: ReturnType<typeof ingestFor>, sandbox: Sandbox): Promise<void> {
  await expectNothingRecorded(ingest);
  // No acceptance sequence was reserved: the next one is still the first.
  expect(await ingest.store.reserveSequences(1)).toBe(1);
  expect(sandbox.calls().filter((c) => c.method !== 'GET')).toEqual([]);
}

const CSV = [
  'id,type,email,roles',
  'h1,hire,ada@example.com,tenant-member',
  'r1,role_change,grace@example.com,tenant-viewer',
  'o1,offboard,linus@example.com,',
  'bad,promote,ken@example.com,',
  'n1,hire,ken@example.com,tenant-member',
  'p1,hire,root@example.com,tenant-admin',
].join('\n');

describe('POST /batch?dryRun=true', () => {
  it('answers the plans, the rejected rows by line and the summary, and leaves no trace', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'grace@example.com', roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'linus@example.com', roles: ['tenant-member'] });
    sandbox.seedUser({ email: 'ken@example.com', roles: ['tenant-member'] });
    const ingest = previewIngest(sandbox);
    const response = await ingest.call(post('/batch', CSV, 'text/csv'));
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      dryRun: true,
      plans: [
        { line: 2, id: 'h1', email: 'ada@example.com', actions: ['register', 'set-roles:tenant'] },
        { line: 3, id: 'r1', email: 'grace@example.com', actions: ['set-roles:tenant'] },
        { line: 4, id: 'o1', email: 'linus@example.com', actions: ['deactivate'] },
        {
          line: 6,
          id: 'n1',
          email: 'ken@example.com',
          actions: [],
          note: 'already in the wanted state',
        },
      ],
      rejected: [
        { line: 5, error: expect.stringContaining('type') },
        { line: 7, error: expect.stringContaining('refused by policy') },
      ],
      summary: { create: 1, activate: 0, 'set-roles': 2, deactivate: 1, delete: 0, 'no-op': 1 },
    });
    await expectNoTrace(ingest, sandbox);
  });

  it('rejects a row whose id is recorded for another event, as the upload would', async () => {
    const sandbox = sandboxOf();
    const ingest = previewIngest(sandbox);
    const upload = await ingest.call(
      post('/batch', 'id,type,email\nh1,hire,grace@example.com', 'text/csv', { batchId: 'b1' }),
    );
    expect(upload.status).toBe(202);
    const response = await ingest.call(
      post('/batch', 'id,type,email\nh1,hire,ada@example.com', 'text/csv', { dryRun: 'true', batchId: 'b1' }),
    );
    expect(response.json).toMatchObject({
      plans: [],
      rejected: [{ line: 2, error: expect.stringContaining('h1') }],
    });
    expect(ingest.queue.sent).toHaveLength(1);
    expect(sandbox.calls()).toEqual([]);
  });

  it('refuses the whole file in strict mode when a row is rejected, planning nothing', async () => {
    const sandbox = sandboxOf();
    const ingest = previewIngest(sandbox);
    const response = await ingest.call(post('/batch', CSV, 'text/csv', { dryRun: 'true', strict: 'true' }));
    expect(response.status).toBe(422);
    expect(response.json).toMatchObject({ error: 'rejected_rows', rejected: [{ line: 5 }, { line: 7 }] });
    await expectNoTrace(ingest, sandbox);
    expect(sandbox.calls()).toEqual([]);
  });

  it(`plans at most ${MAX_PREVIEW_EVENTS} rows per request (413), reading nothing`, async () => {
    const sandbox = sandboxOf();
    const ingest = previewIngest(sandbox);
    const rows = Array.from({ length: MAX_PREVIEW_EVENTS + 1 }, (_, i) => `x${i},hire,p${i}@example.com`);
    const response = await ingest.call(post('/batch', ['id,type,email', ...rows].join('\n'), 'text/csv'));
    expect(response.status).toBe(413);
    expect(response.json).toMatchObject({
      error: 'too_many_events',
      message: expect.stringContaining('--dry-run'),
    });
    await expectNoTrace(ingest, sandbox);
    expect(sandbox.calls()).toEqual([]);
  });

  it('answers 502, with nothing recorded, when TrueFoundry cannot be read', async () => {
    const sandbox = sandboxOf();
    sandbox.setFaults({ serverErrorRate: 1 });
    const ingest = previewIngest(sandbox);
    const response = await ingest.call(post('/batch', 'id,type,email\nh1,hire,ada@example.com', 'text/csv'));
    expect(response.status).toBe(502);
    expect(response.json).toMatchObject({ error: 'truefoundry_unavailable' });
    await expectNoTrace(ingest, sandbox);
  });
});

describe('POST /events?dryRun=true', () => {
  const hire = (id: string, email: string, roles = ['tenant-member']) => ({
    id,
    type: 'hire',
    occurredAt: '2026-11-01T09:00:00Z',
    employee: { id: `E-${id}`, email },
    roles,
  });

  it('answers the plans without lines, and leaves no trace', async () => {
    const sandbox = sandboxOf();
    sandbox.seedUser({ email: 'grace@example.com', active: false, roles: ['tenant-member'] });
    const ingest = previewIngest(sandbox);
    const body = JSON.stringify([
      hire('e1', 'ada@example.com'),
      hire('e2', 'grace@example.com', ['tenant-viewer']),
    ]);
    const response = await ingest.call(post('/events', body, 'application/json'));
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      dryRun: true,
      plans: [
        { id: 'e1', email: 'ada@example.com', actions: ['register', 'set-roles:tenant'] },
        { id: 'e2', email: 'grace@example.com', actions: ['activate', 'set-roles:tenant'] },
      ],
      rejected: [],
      summary: { create: 1, activate: 1, 'set-roles': 2, deactivate: 0, delete: 0, 'no-op': 0 },
    });
    await expectNoTrace(ingest, sandbox);
  });

  it('refuses invalid events and policy refusals as the real route does, reading nothing', async () => {
    const sandbox = sandboxOf();
    const ingest = previewIngest(sandbox);
    const invalid = await ingest.call(
      post('/events', JSON.stringify({ id: 'x', type: 'hire' }), 'application/json'),
    );
    expect(invalid.status).toBe(400);
    expect(invalid.json).toMatchObject({ error: 'invalid_event' });
    const refused = await ingest.call(
      post('/events', JSON.stringify(hire('e1', 'ada@example.com', ['tenant-admin'])), 'application/json'),
    );
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({ error: 'refused_by_policy' });
    await expectNoTrace(ingest, sandbox);
    expect(sandbox.calls()).toEqual([]);
  });

  it('answers 400 naming dryRun for a value other than true or false; false is the real route', async () => {
    const sandbox = sandboxOf();
    const ingest = previewIngest(sandbox);
    const body = JSON.stringify(hire('e1', 'ada@example.com'));
    for (const path of ['/events', '/batch']) {
      const response = await ingest.call(post(path, body, 'application/json', { dryRun: 'yes' }));
      expect(response.status).toBe(400);
      expect(response.json).toEqual({ error: 'invalid_query', message: 'dryRun must be true or false' });
    }
    await expectNoTrace(ingest, sandbox);
    const real = await ingest.call(post('/events', body, 'application/json', { dryRun: 'false' }));
    expect(real.status).toBe(202);
    expect(ingest.queue.sent.map((m) => m.eventId)).toEqual(['e1']);
  });

  it('answers 501 when ingest has no TrueFoundry access', async () => {
    const ingest = ingestFor({ policy });
    for (const [path, type, body] of [
      ['/events', 'application/json', JSON.stringify(hire('e1', 'ada@example.com'))],
      ['/batch', 'text/csv', 'id,type,email\nh1,hire,ada@example.com'],
    ] as const) {
      const response = await ingest.call(post(path, body, type));
      expect(response.status).toBe(501);
      expect(response.json).toMatchObject({
        error: 'not_implemented',
        message: expect.stringContaining('preview'),
      });
    }
    await expectNothingRecorded(ingest);
  });
});
