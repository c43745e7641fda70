import { describe, expect, it } from 'vitest';
import { createMemoryStateStore } from '../../functions/core/adapters/memory';
import type { IngestDeps } from '../../functions/core/ingest/ingest-deps';
import { compilePolicy } from '../../functions/core/policy/policy';
import { resolvePolicy } from '../../functions/core/policy/policy-file';
import { CredentialedUsersApiProvider } from '../../functions/core/truefoundry/credentials';
import { expectNoSecretsInResponses } from '../ingest/ingest-assertions';
import { testConfig, testRoleMapping } from '../support/engine-harness';
import { bearer, ingestFor } from '../support/ingest-harness';
import { useSandbox } from '../support/sandbox';

/*
 * POST /reconcile refuses bad input with the reason and where, and then submits nothing, records nothing and
 * writes nothing to TrueFoundry, whatever `apply` says.
 */

expectNoSecretsInResponses();
const sandbox = useSandbox();

function reconcilingIngest(overrides: Partial<IngestDeps> = {}, apiKey?: string) {
  const state = createMemoryStateStore();
  const api = new CredentialedUsersApiProvider(
    async () => ({ baseUrl: sandbox().url, apiKey: apiKey ?? sandbox().apiKey }),
    {
      timeoutMs: 2_000,
      retry: { baseDelayMs: 1, maxAttempts: 2 },
    },
  );
  const ingest = ingestFor({ store: state.events, trueFoundry: { api, config: testConfig() }, ...overrides });
  return { ...ingest, state };
}

const post = (
  body: string,
  query: Record<string, string> = { apply: 'true' },
  headers: Record<string, string> = {},
) => ({
  method: 'POST',
  path: '/reconcile',
  query,
  headers: { 'content-type': 'text/csv', ...bearer(), ...headers },
  body: Buffer.from(body),
});

/** Nothing recorded, nothing queued, no TrueFoundry write; with `listed`, not even a read. */
async function expectNothingDone(ingest: ReturnType<typeof reconcilingIngest>, listed = false) {
  expect(ingest.queue.sent).toEqual([]);
  expect((await ingest.state.events.list({ limit: 500 })).records).toEqual([]);
  const calls = sandbox().calls();
  expect(calls.filter((c) => c.method !== 'GET')).toEqual([]);
  if (!listed) expect(calls).toEqual([]);
}

describe('POST /reconcile refuses bad input and does nothing', () => {
  it('the control case: a valid roster is applied', async () => {
    const ingest = reconcilingIngest();
    const response = await ingest.call(post('email\nada@example.com\n'));
    expect(response.status).toBe(200);
    expect(ingest.queue.sent).toHaveLength(1);
  });

  it.each([
    ['application/json', 'application/json'],
    ['text/plain', 'text/plain'],
    ['application/x-ndjson', 'application/x-ndjson'],
  ])('415 for Content-Type %s: a roster is CSV', async (contentType) => {
    const ingest = reconcilingIngest();
    const response = await ingest.call(post('email\nada@example.com\n', {}, { 'content-type': contentType }));
    expect(response.status).toBe(415);
    expect(response.json).toMatchObject({ error: 'unsupported_media_type', allowed: ['text/csv'] });
    await expectNothingDone(ingest);
  });

  it.each(['yes', '1', 'TRUE', ''])('400 for apply=%j: only true or false', async (apply) => {
    const ingest = reconcilingIngest();
    const response = await ingest.call(post('email\nada@example.com\n', { apply }));
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'invalid_query', message: 'apply must be true or false' });
    await expectNothingDone(ingest);
  });

  it('400 naming each bad row by its line; the good rows are not applied either', async () => {
    const ingest = reconcilingIngest();
    const roster = [
      'email,employee_id,roles',
      'ada@example.com,E1,',
      'not-an-email,E2,',
      'bob@example.com,E3',
      'Ada@Example.com,E4,',
      'cy@example.com,E1,',
    ].join('\n');
    const response = await ingest.call(post(roster));
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'invalid_roster' });
    expect(response.json.rejected).toEqual([
      { line: 3, error: expect.stringMatching(/^email: /) },
      { line: 4, error: 'has 2 cells, expected 3 (one per header column)' },
      { line: 5, error: 'email: ada@example.com is also on line 2' },
      { line: 6, error: 'employee_id: E1 is also on line 2' },
    ]);
    await expectNothingDone(ingest);
  });

  it('400 for a row whose type is not hire: a roster lists who should have access', async () => {
    const ingest = reconcilingIngest();
    const response = await ingest.call(post('type,email\nhire,ada@example.com\noffboard,bob@example.com\n'));
    expect(response.status).toBe(400);
    expect(response.json.rejected).toEqual([
      { line: 3, error: expect.stringMatching(/^type: .*got offboard/) },
    ]);
    await expectNothingDone(ingest);
  });

  it('400 for a header it cannot read, and for a roster that lists nobody', async () => {
    const ingest = reconcilingIngest();
    const unknown = await ingest.call(post('email,salary\nada@example.com,1\n'));
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({
      error: 'malformed_roster',
      message: expect.stringMatching(/unknown column "salary"/),
    });
    // An empty roster would make every active account an orphan and offboard it.
    const empty = await ingest.call(post('email,employee_id\n\n'));
    expect(empty.status).toBe(400);
    expect(empty.json).toMatchObject({ error: 'empty_roster' });
    await expectNothingDone(ingest);
  });

  it('400 for a row the policy refuses (roles above the ceiling), by its line and column', async () => {
    const policy = compilePolicy(
      resolvePolicy(
        { content: { allowedRoles: { tenant: ['tenant-member', 'tenant-admin'] } }, name: 'policy.json' },
        testRoleMapping,
      ),
    );
    const ingest = reconcilingIngest({ policy });
    const response = await ingest.call(post('email,roles\nada@example.com,tenant-viewer\n'));
    expect(response.status).toBe(400);
    expect(response.json.rejected).toEqual([
      {
        line: 2,
        error: expect.stringMatching(
          /^refused by policy: roles: tenant-viewer is not an allowed tenant role/,
        ),
      },
    ]);
    await expectNothingDone(ingest);
  });

  it('401 without the operator credential', async () => {
    const ingest = reconcilingIngest();
    const response = await ingest.call(
      post('email\nada@example.com\n', {}, { authorization: 'Bearer wrong-token-0123456789' }),
    );
    expect(response.status).toBe(401);
    await expectNothingDone(ingest);
  });

  it('501 when the app has no TrueFoundry access', async () => {
    const ingest = ingestFor();
    const response = await ingest.call(post('email\nada@example.com\n'));
    expect(response.status).toBe(501);
    expect(ingest.queue.sent).toEqual([]);
  });

  it('502 when TrueFoundry cannot be read, with no key in the answer', async () => {
    const ingest = reconcilingIngest({}, 'a-key-the-tenant-refuses');
    const response = await ingest.call(post('email\nada@example.com\n'));
    expect(response.status).toBe(502);
    expect(response.json).toMatchObject({ error: 'truefoundry_unavailable' });
    expect(response.body).not.toContain('a-key-the-tenant-refuses');
    await expectNothingDone(ingest, true);
  });
});
