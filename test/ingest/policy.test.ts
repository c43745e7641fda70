import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { IngestRequest } from '../../functions/core/ingest/http';
import { compilePolicy } from '../../functions/core/policy/policy';
import { type PolicyFile, resolvePolicy } from '../../functions/core/policy/policy-file';
import { loadRoleMapping } from '../../functions/core/roles/role-mapping';
import { bamboohrSigned, bearer, hireEvent, ingestFor, jsonRequest, signed } from '../support/ingest-harness';
import { expectNoSecretsInResponses, expectNothingRecorded, sentIds } from './ingest-assertions';

/*
 * The policy at ingest, on every route: what it refuses is answered 422 (POST /events, the whole request),
 * rejected by its line (POST /batch) or skipped with the reason (BambooHR), and never recorded or enqueued.
 */

expectNoSecretsInResponses();

const POLICY: PolicyFile = {
  allowedRoles: {
    tenant: ['tenant-member', 'tenant-viewer'],
    workspace: ['workspace-viewer', 'workspace-editor'],
  },
  explicitRoles: ['token', 'batch'],
  protectedAccounts: ['admin@example.com', 'svc-*@example.com'],
  allowedEmailDomains: ['example.com'],
};
const policyOf = (content: PolicyFile = POLICY) =>
  compilePolicy(
    resolvePolicy({ content, name: 'policy.json' }, loadRoleMapping({ default: ['tenant-member'] })),
  );
const withPolicy = (content?: PolicyFile) => ingestFor({ policy: policyOf(content) });

const hire = (fields: Record<string, unknown> = {}, id = 'evt-1', email = 'ada@example.com') => ({
  ...hireEvent(id, email),
  ...fields,
});

describe('POST /events under a policy', () => {
  it('accepts an event within the policy (the control case)', async () => {
    const ingest = withPolicy();
    const response = await ingest.call(jsonRequest('/events', hire({ roles: ['tenant-viewer'] })));
    expect(response.status).toBe(202);
    expect(sentIds(ingest.queue)).toEqual(['evt-1']);
  });

  it('refuses an explicit role above the ceiling: 422 naming the role and the event, nothing recorded', async () => {
    const ingest = withPolicy();
    const response = await ingest.call(jsonRequest('/events', hire({ roles: ['tenant-admin'] })));
    expect(response.status).toBe(422);
    expect(response.json).toMatchObject({
      error: 'refused_by_policy',
      issues: [
        { path: 'roles', message: expect.stringContaining('tenant-admin is not an allowed tenant role') },
      ],
    });
    expect(response.json.message).toMatch(/^event evt-1: roles: tenant-admin is not an allowed tenant role/);
    expect(response.json.message).toContain('nothing was accepted');
    await expectNothingRecorded(ingest);
  });

  it('refuses a resource role above the ceiling, naming its resource type', async () => {
    const ingest = withPolicy();
    const response = await ingest.call(
      jsonRequest(
        '/events',
        hire({ resourceRoles: [{ resourceType: 'cluster', roles: ['cluster-admin'] }] }),
      ),
    );
    expect(response.status).toBe(422);
    expect(response.json.issues).toEqual([
      {
        path: 'resourceRoles.0.roles',
        message:
          'cluster-admin is not an allowed cluster role (allowed: none; allowedRoles.cluster of policy.json)',
      },
    ]);
    await expectNothingRecorded(ingest);
  });

  it('refuses roles from a signed webhook, a source not in explicitRoles, even roles within the ceiling', async () => {
    const ingest = withPolicy();
    const body = JSON.stringify(hire({ roles: ['tenant-member'] }));
    const response = await ingest.call(jsonRequest('/events', body, signed(body)));
    expect(response.status).toBe(422);
    expect(response.json.message).toContain(
      'event evt-1: roles: events from the webhook source may not carry roles (explicitRoles: token, batch)',
    );
    await expectNothingRecorded(ingest);

    // The same event without roles is the webhook's to send: the role mapping decides.
    const { roles: _, ...withoutRoles } = hire();
    const plain = JSON.stringify(withoutRoles);
    expect((await ingest.call(jsonRequest('/events', plain, signed(plain)))).status).toBe(202);
  });

  it('refuses an email whose domain is not allowed, naming the domain', async () => {
    const ingest = withPolicy();
    const response = await ingest.call(jsonRequest('/events', hire({}, 'evt-1', 'ada@example.org')));
    expect(response.status).toBe(422);
    expect(response.json.issues).toEqual([
      {
        path: 'employee.email',
        message: 'the domain example.org is not allowed (allowedEmailDomains: example.com)',
      },
    ]);
    await expectNothingRecorded(ingest);
  });

  it('refuses any event for a protected account, an offboard too', async () => {
    const ingest = withPolicy();
    const response = await ingest.call(
      jsonRequest('/events', {
        ...hire({}, 'evt-1', 'svc-deploy@example.com'),
        type: 'offboard',
        roles: undefined,
      }),
    );
    expect(response.status).toBe(422);
    expect(response.json.message).toContain(
      'svc-deploy@example.com is a protected account (protectedAccounts: svc-*@example.com)',
    );
    await expectNothingRecorded(ingest);
  });

  it('one refused event refuses the whole request, naming it by index and id', async () => {
    const ingest = withPolicy();
    const response = await ingest.call(
      jsonRequest('/events', [
        hire({}, 'ok-1'),
        hire({ roles: ['tenant-admin'] }, 'bad-2', 'eve@example.com'),
      ]),
    );
    expect(response.status).toBe(422);
    expect(response.json.issues).toEqual([
      { event: 1, path: 'roles', message: expect.stringContaining('tenant-admin') },
    ]);
    expect(response.json.message).toMatch(/^event bad-2: /);
    await expectNothingRecorded(ingest);
  });
});

describe('POST /batch under a policy', () => {
  const csv = [
    'id,type,email,roles',
    'r-1,hire,ok@example.com,tenant-viewer',
    'r-2,hire,boss@example.com,tenant-member;tenant-admin',
    'r-3,hire,eve@evil.org,',
    'r-4,offboard,admin@example.com,',
  ].join('\n');
  const upload = (
    query: Record<string, string> = {},
  ): Partial<IngestRequest> & { method: string; path: string } => ({
    method: 'POST',
    path: '/batch',
    query: { batchId: 'b-policy', ...query },
    headers: { ...bearer(), 'content-type': 'text/csv' },
    body: Buffer.from(csv),
  });

  it('rejects each refused row by its line and accepts the rest', async () => {
    const ingest = withPolicy();
    const response = await ingest.call(upload());
    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(response.json.rejected).toEqual([
      {
        line: 3,
        error: expect.stringContaining(
          'refused by policy: roles: tenant-admin is not an allowed tenant role',
        ),
      },
      { line: 4, error: expect.stringContaining('the domain evil.org is not allowed') },
      { line: 5, error: expect.stringContaining('admin@example.com is a protected account') },
    ]);
    expect(sentIds(ingest.queue)).toEqual(['r-1']);
    expect((await ingest.store.list({ limit: 10 })).records.map((r) => r.event.id)).toEqual(['r-1']);
  });

  it('in strict mode refuses the whole file with 422, nothing recorded', async () => {
    const ingest = withPolicy();
    const response = await ingest.call(upload({ strict: 'true' }));
    expect(response.status).toBe(422);
    expect((response.json.rejected as { line: number }[]).map((r) => r.line)).toEqual([3, 4, 5]);
    await expectNothingRecorded(ingest);
  });

  it('refuses roles in a batch when batch is not in explicitRoles, naming the source', async () => {
    const ingest = withPolicy({ ...POLICY, explicitRoles: ['token'] });
    const response = await ingest.call({
      ...upload(),
      body: Buffer.from(
        'id,type,email,roles\nr-1,hire,ok@example.com,tenant-viewer\nr-2,hire,two@example.com,\n',
      ),
    });
    expect(response.status).toBe(202);
    expect(response.json.rejected).toEqual([
      {
        line: 2,
        error:
          'refused by policy: roles: events from the batch source may not carry roles (explicitRoles: token); leave roles out and the role mapping decides',
      },
    ]);
    expect(sentIds(ingest.queue)).toEqual(['r-2']);
  });
});

describe('POST /webhooks/bamboohr under a policy', () => {
  const sample = readFileSync(new URL('../../samples/bamboohr-global-webhook.json', import.meta.url), 'utf8');
  const directory = {
    async getEmployee() {
      return { 'Employee #': 'E1003', 'Work Email': 'alan@elsewhere.org', Status: 'Active' };
    },
  };

  it('skips each entry the policy refuses, with the reason, and accepts the others', async () => {
    const ingest = ingestFor({
      bamboohr: { directory },
      policy: policyOf({ ...POLICY, protectedAccounts: ['ada.lovelace@example.com'] }),
    });
    const response = await ingest.call(jsonRequest('/webhooks/bamboohr', sample, bamboohrSigned(sample)));
    expect(response.status).toBe(202);
    expect(response.json.skipped).toEqual([
      {
        employeeId: '4021',
        reason: expect.stringContaining('ada.lovelace@example.com is a protected account'),
      },
      { employeeId: '4023', reason: expect.stringContaining('the domain elsewhere.org is not allowed') },
    ]);
    expect(ingest.queue.sent.map((m) => m.groupId)).toEqual(['id:E1002']);
    expect((await ingest.store.list({ limit: 10 })).records).toHaveLength(1);
  });
});
