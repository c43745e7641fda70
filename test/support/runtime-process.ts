import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

export type RuntimeProcess = {
  url: string;
  token: string;
  dataDir: string;
  output(): string;
  /** SIGKILL: no cleanup of any kind runs. */
  kill9(): Promise<void>;
  /** SIGTERM: the graceful path. Resolves with the exit code. */
  stop(): Promise<number | null>;
};

export const TEST_TOKEN = 'e2e-ingest-token-0123456789';

/** Starts `local/main.ts` as a child process, exactly as `npm start` does, and waits for its banner. */
export async function startRuntimeProcess(
  env: Record<string, string>,
  dataDir = newDataDir(),
): Promise<RuntimeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      DATA_DIR: dataDir,
      INGEST_TOKEN: TEST_TOKEN,
      LOG_LEVEL: 'WARN',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`runtime did not start within 30 s:\n${output}`)),
      30_000,
    );
    const check = () => {
      const match = /listening\s+(http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    token: TEST_TOKEN,
    dataDir,
    output: () => output,
    kill9: () => exited(child, 'SIGKILL').then(() => undefined),
    stop: () => exited(child, 'SIGTERM'),
  };
}

function exited(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'hrp-e2e-'));
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Calls the runtime's HTTP API with the test token. */
export async function api(
  runtime: { url: string; token: string },
  method: string,
  path: string,
  body?: string | object,
  contentType = 'application/json',
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${runtime.token}`,
      ...(body === undefined ? {} : { 'content-type': contentType }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
