import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { api, type RuntimeProcess, waitFor } from '../support/runtime-process';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

/** The variables `npm run emulate` writes for the CLI (DATA_DIR/emulate/cli.env). */
export function cliEnvOf(emulator: RuntimeProcess): Record<string, string> {
  const text = readFileSync(join(emulator.dataDir, 'emulate', 'cli.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** `npx hr-provisioning …` as an operator runs it after `set -a; . cli.env; set +a`, in a process of its own. */
export async function hrProvisioning(
  emulator: RuntimeProcess,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/hr-provisioning.mjs', ...args], {
      cwd: ROOT,
      // The emulator got its token from INGEST_TOKEN, so the operator has it in the environment too.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        INGEST_TOKEN: emulator.token,
        ...cliEnvOf(emulator),
      },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Sets the latency of the emulator's Secrets Manager endpoint (its fault switch); 0 turns it off. */
export async function secretsLatency(emulator: RuntimeProcess, latencyMs: number): Promise<void> {
  const endpoint = /GetSecretValue at (http:\/\/\S+?):? /.exec(emulator.output())?.[1];
  if (!endpoint) throw new Error('the emulator banner names no Secrets Manager endpoint');
  const answer = await fetch(`${endpoint}/__emulate/faults`, {
    method: 'PUT',
    body: JSON.stringify({ latencyMs }),
  });
  const set = (await answer.json()) as { latencyMs?: number };
  if (set.latencyMs !== latencyMs) throw new Error(`the fault switch answered ${JSON.stringify(set)}`);
}

const TERMINAL = new Set(['succeeded', 'superseded', 'failed', 'cancelled']);

/** Waits for an event to reach a terminal status through GET /events/{id} (an IAM route: the token stands in). */
export function settled(
  emulator: RuntimeProcess,
  id: string,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  return waitFor(
    `${id} to end`,
    async () => {
      const { status, json } = await api(emulator, 'GET', `/events/${id}`);
      return status === 200 && TERMINAL.has(json.status as string) ? json : undefined;
    },
    timeoutMs,
  );
}

export const hire = (id: string, employeeId: string, email: string) => ({
  id,
  type: 'hire',
  occurredAt: '2026-01-05T09:00:00Z',
  employee: { id: employeeId, email, name: 'Ada Lovelace' },
  roles: ['tenant-member'],
});

export type SqsFaults = {
  /** SendMessageBatch entries of a group SQS will fail, `times` times each. */
  sendFailures?: { groupId: string; code: string; senderFault?: boolean; times?: number }[];
  /** DeleteMessageBatch calls whose messages come back at once instead of going away. */
  lostDeleteBatches?: number;
};

/** Sets the emulated SQS endpoint's fault switch; `{}` turns every fault off. */
export async function sqsFaults(emulator: RuntimeProcess, faults: SqsFaults): Promise<void> {
  const endpoint = /SQS\s+fauxqs (http:\/\/\S+?):? /.exec(emulator.output())?.[1];
  if (!endpoint) throw new Error('the emulator banner names no SQS endpoint');
  const answer = await fetch(`${endpoint}/__emulate/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (!answer.ok) throw new Error(`the SQS fault switch answered ${answer.status}: ${await answer.text()}`);
}

/** DeleteMessageBatch calls the SQS fault switch has still to lose. */
export async function lostDeletesLeft(emulator: RuntimeProcess): Promise<number> {
  const endpoint = /SQS\s+fauxqs (http:\/\/\S+?):? /.exec(emulator.output())?.[1];
  const answer = await fetch(`${endpoint}/__emulate/faults`);
  return ((await answer.json()) as { lostDeleteBatches: number }).lostDeleteBatches;
}

/** Messages on the emulated stack's event queue, visible or in flight (through the emulated SQS endpoint). */
export async function messagesOnQueue(emulator: RuntimeProcess): Promise<number> {
  const env = cliEnvOf(emulator);
  const client = new SQSClient({
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_SQS,
    credentials: { accessKeyId: 'emulate', secretAccessKey: 'emulate' },
  });
  try {
    const { Attributes = {} } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: env.HRP_QUEUE_URL,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  } finally {
    client.destroy();
  }
}
