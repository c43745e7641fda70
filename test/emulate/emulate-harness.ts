import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
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

const TERMINAL = new Set(['succeeded', 'superseded', 'failed']);

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
