import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Endpoint } from './target';

const ROOT = new URL('../', import.meta.url).pathname;
const run = promisify(execFile);

export type CliRun = { code: number; stdout: string; stderr: string };

/**
 * `npx hr-provisioning …` in a process of its own, as an operator runs it: the endpoint and token from
 * HRP_URL and INGEST_TOKEN (never on the command line, where `ps` would show the token), plus whatever the
 * target adds (the emulated SQS queues).
 */
export async function hrProvisioning(
  endpoint: Endpoint,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/hr-provisioning.mjs', ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        HRP_URL: endpoint.url,
        INGEST_TOKEN: endpoint.token,
        ...extraEnv,
      },
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : 1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    };
  }
}
