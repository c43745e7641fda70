import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCapturing, temporaryDir } from './support/cli-harness';

const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod';
const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

type Seen = { url: string; method: string; headers: Record<string, string> };

/** A stand-in for API Gateway: records each request and answers from `answer`. */
function fakeGateway(answer: (url: URL) => { status: number; body: unknown }) {
  const seen: Seen[] = [];
  const fetchStub: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    seen.push({
      url: url.href,
      method: init?.method ?? 'GET',
      headers: init?.headers as Record<string, string>,
    });
    const { status, body } = answer(url);
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
  return { fetchStub, seen };
}

const event = (id: string) => ({
  id,
  status: 'failed',
  type: 'hire',
  occurredAt: '2026-11-02T09:00:00.000Z',
  employee: { id: 'E1', email: 'ada@example.com' },
  source: 'events',
  attempts: 1,
  steps: [],
  error: 'TrueFoundry answered 403',
  receivedAt: '2026-11-02T09:00:01.000Z',
  updatedAt: '2026-11-02T09:00:02.000Z',
});

describe('the CLI against the API on AWS', () => {
  const dir = temporaryDir('hrp-cli-aws-');
  afterAll(() => dir.remove());

  it('signs reads with SigV4 for execute-api in the region of the URL, keeping the stage path', async () => {
    const { fetchStub, seen } = fakeGateway(() => ({ status: 200, body: { events: [event('evt-1')] } }));

    const run = await runCapturing(['events', '--status', 'failed', '--url', API], {
      env: {},
      cwd: dir.path,
      fetch: fetchStub,
      awsCredentials: CREDENTIALS,
    });

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^evt-1\s+failed\s+hire\s+ada@example\.com\s+1\s+\S+\s+TrueFoundry answered 403$/m,
    );
    expect(seen[0]!.url).toBe(`${API}/events?status=failed&limit=50`);
    const authorization = seen[0]!.headers.authorization ?? '';
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=\S*host\S*, Signature=[0-9a-f]{64}$/,
    );
    expect(seen[0]!.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('sends writes with the bearer token, not a signature', async () => {
    writeFileSync(
      join(dir.path, 'one.json'),
      JSON.stringify({
        id: 'w-1',
        type: 'offboard',
        occurredAt: '2026-11-02T09:00:00Z',
        employee: { id: 'E', email: 'e@example.com' },
      }),
    );
    const { fetchStub, seen } = fakeGateway(() => ({
      status: 202,
      body: { events: [{ id: 'w-1', status: 'queued' }] },
    }));

    const run = await runCapturing(['send', 'one.json', '--url', API], {
      env: { INGEST_TOKEN: 'aws-token-0123456789' },
      cwd: dir.path,
      fetch: fetchStub,
      awsCredentials: CREDENTIALS,
    });

    expect(run.stdout).toContain('w-1  queued');
    expect(seen[0]!.url).toBe(`${API}/events`);
    expect(seen[0]!.headers.authorization).toBe('Bearer aws-token-0123456789');
  });

  it('explains a refused signature', async () => {
    const { fetchStub } = fakeGateway(() => ({ status: 403, body: { message: 'User is not authorized' } }));

    const run = await runCapturing(['status', 'evt-1', '--url', API], {
      env: {},
      cwd: dir.path,
      fetch: fetchStub,
      awsCredentials: CREDENTIALS,
    });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('AWS refused the signed request (User is not authorized)');
    expect(run.stderr).toContain('execute-api:Invoke');
  });

  it('follows cursors until --limit', async () => {
    const pages: Record<string, { events: unknown[]; cursor?: string }> = {
      '': { events: [event('p1'), event('p2')], cursor: 'c2' },
      c2: { events: [event('p3'), event('p4')], cursor: 'c3' },
      c3: { events: [event('p5')] },
    };
    const { fetchStub, seen } = fakeGateway((url) => ({
      status: 200,
      body: pages[url.searchParams.get('cursor') ?? ''],
    }));

    const run = await runCapturing(['events', '--limit', '5', '--json', '--url', API], {
      env: {},
      cwd: dir.path,
      fetch: fetchStub,
      awsCredentials: CREDENTIALS,
    });

    const listed = (JSON.parse(run.stdout) as { events: { id: string }[] }).events.map((e) => e.id);
    expect(listed).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    expect(seen.map((s) => new URL(s.url).searchParams.get('limit'))).toEqual(['5', '3', '1']);
  });

  it('tells the operator to name the SQS queues for the DLQ on AWS', async () => {
    const run = await runCapturing(['dlq', 'list', '--url', API], { env: {}, cwd: dir.path });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('pass --queue-url and --dlq-url, or set HRP_QUEUE_URL and HRP_DLQ_URL');
  });
});
