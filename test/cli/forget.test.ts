import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  runCapturing,
  startTestRuntime,
  type TestRuntime,
  temporaryDir,
  terminalStatus,
} from './support/cli-harness';

describe('hr-provisioning forget against the local runtime', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime();
  });
  afterAll(async () => {
    await rt.close();
  });

  const post = async (events: object[]) => {
    const answer = await fetch(`${rt.runtime.url}/events`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${rt.runtime.credentials.ingestToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ events }),
    });
    expect(answer.status).toBe(202);
  };
  const hire = (id: string, employee: { id: string; email: string }) => ({
    id,
    type: 'hire',
    occurredAt: '2026-11-02T09:00:00Z',
    employee,
    roles: ['tenant-member'],
  });

  it('forgets a person named by employee id, with the token found on disk, and prints the audit line', async () => {
    await post([
      hire('cli-ada-1', { id: 'E1', email: 'ada@example.com' }),
      hire('cli-bob-1', { id: 'E2', email: 'bob@example.com' }),
    ]);
    expect(await terminalStatus(rt, 'cli-ada-1')).toBe('succeeded');
    expect(await terminalStatus(rt, 'cli-bob-1')).toBe('succeeded');

    const run = await rt.cli(['forget', '--employee', 'E1'], { env: { ...rt.env, USER: 'alice' } });

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^forgot person [0-9a-f]{12}: 1 event, \d+ ledger steps?, 1 person record, 1 email link, 0 queued messages, 0 dead letters$/m,
    );
    expect(run.stdout).toMatch(
      /^audit: forgot person [0-9a-f]{12} \(1 events, 0 dead letters\) at \S+ by token \(alice\)$/m,
    );
    expect(run.stdout).not.toContain('ada@');

    const gone = await rt.cli(['status', 'cli-ada-1']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no event "cli-ada-1"');
    expect((await rt.cli(['status', 'cli-bob-1'])).code).toBe(0);
    expect(await rt.runtime.store.forgetAudits()).toHaveLength(1);
  });

  it('forgets by email, and says so in JSON', async () => {
    await post([hire('cli-cy-1', { id: 'E3', email: 'cy@example.com' })]);
    expect(await terminalStatus(rt, 'cli-cy-1')).toBe('succeeded');

    const run = await rt.cli(['forget', '--email', 'CY@example.com', '--json']);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ forgotten: { events: 1, people: 1, emails: 1 } });
    expect((await rt.cli(['status', 'cli-cy-1'])).code).toBe(1);
  });

  it('wants the person named exactly one way', async () => {
    for (const argv of [['forget'], ['forget', '--employee', 'E1', '--email', 'ada@example.com']]) {
      const run = await rt.cli(argv);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('hr-provisioning forget --employee <id> | --email <address>');
    }
  });
});

const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/hrp-events-dlq.fifo';
const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

function deadLetter(n: number, employee: { id: string; email: string }, groupId: string): Message {
  return {
    MessageId: `m-${n}`,
    ReceiptHandle: `rh-${n}`,
    Body: JSON.stringify({ id: `evt-${n}`, type: 'hire', occurredAt: '2026-11-29T09:00:00.000Z', employee }),
    Attributes: { MessageGroupId: groupId, SentTimestamp: String(Date.parse('2026-11-29T09:30:00Z')) },
    MessageAttributes: { reason: { DataType: 'String', StringValue: 'TrueFoundry answered 422' } },
  };
}

describe('hr-provisioning forget against a deployed stack', () => {
  const sqs = mockClient(SQSClient);
  const dir = temporaryDir('hrp-cli-forget-');
  afterAll(() => {
    sqs.restore();
    dir.remove();
  });
  beforeEach(() => {
    sqs.reset();
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          deadLetter(1, { id: 'E1', email: 'ada@example.com' }, 'id:E1'),
          deadLetter(2, { id: 'E2', email: 'bob@example.com' }, 'id:E2'),
          // The same human without an employee id (a CSV row): in the person's keys the API answered.
          deadLetter(
            3,
            { id: 'ada.old@example.com', email: 'ada.old@example.com' },
            'email:ada.old@example.com',
          ),
        ],
      })
      .resolves({});
  });

  const forgotten = {
    person: 'a1b2c3d4e5f6',
    at: '2026-11-29T10:00:00.000Z',
    by: 'gateway (alice)',
    events: 2,
    steps: 3,
    people: 1,
    emails: 2,
    queued: 0,
    deadLetters: 0,
  };

  /** API Gateway as a stub: records each request, answers POST /forget with `answer`. */
  function gateway(answer: { status: number; body: unknown }) {
    const seen: { url: string; method: string; headers: Record<string, string>; body: string }[] = [];
    const fetchStub: typeof fetch = async (input, init) => {
      seen.push({
        url: String(input),
        method: init?.method ?? 'GET',
        headers: init?.headers as Record<string, string>,
        body: String(init?.body ?? ''),
      });
      return new Response(JSON.stringify(answer.body), {
        status: answer.status,
        headers: { 'content-type': 'application/json' },
      });
    };
    return { fetchStub, seen };
  }

  it('signs POST /forget with SigV4, then deletes the person’s messages from the SQS dead-letter queue', async () => {
    const { fetchStub, seen } = gateway({
      status: 200,
      body: {
        forgotten,
        audit: 'forgot person a1b2c3d4e5f6 (2 events, 0 dead letters) at … by gateway (alice)',
        match: { personKeys: ['id:E1', 'email:ada@example.com', 'email:ada.old@example.com'] },
      },
    });

    const run = await runCapturing(['forget', '--employee', 'E1', '--url', API, '--dlq-url', DLQ_URL], {
      env: { USER: 'alice' },
      cwd: dir.path,
      fetch: fetchStub,
      awsCredentials: CREDENTIALS,
    });

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ url: `${API}/forget`, method: 'POST' });
    expect(seen[0]!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\//,
    );
    expect(JSON.parse(seen[0]!.body)).toEqual({ employeeId: 'E1', requestedBy: 'alice' });
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: DLQ_URL, ReceiptHandle: 'rh-1' },
      { QueueUrl: DLQ_URL, ReceiptHandle: 'rh-3' },
    ]);
    const released = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? []);
    expect(released.map((e) => e.ReceiptHandle)).toEqual(['rh-2']);
    expect(run.stdout).toContain('SQS dead-letter queue: 2 messages deleted');
  });

  it('warns that dead letters may remain when the dead-letter queue is not named', async () => {
    const { fetchStub } = gateway({
      status: 200,
      body: { forgotten, audit: '…', match: { personKeys: ['id:E1'] } },
    });

    const run = await runCapturing(['forget', '--employee', 'E1', '--url', API], {
      env: {},
      cwd: dir.path,
      fetch: fetchStub,
      awsCredentials: CREDENTIALS,
    });

    expect(run.code).toBe(0);
    expect(run.stderr).toContain('the SQS dead-letter queue was not searched');
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it('explains a refusal while the person has events in progress, and touches no queue', async () => {
    const { fetchStub } = gateway({
      status: 409,
      body: {
        error: 'person_busy',
        message: '1 event(s) of this person are queued or running',
        events: ['evt-7'],
      },
    });

    const run = await runCapturing(
      ['forget', '--email', 'ada@example.com', '--url', API, '--dlq-url', DLQ_URL],
      {
        env: {},
        cwd: dir.path,
        fetch: fetchStub,
        awsCredentials: CREDENTIALS,
      },
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('queued or running: evt-7');
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });
});
