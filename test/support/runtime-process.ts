import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const OPEN_POLICY_FILE = new URL('./open-policy.json', import.meta.url).pathname;

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

/**
 * The Node flags `npm start` gives the runtime (package.json's start script: the V8 heap cap), read from there
 * so that tests and benches run the runtime exactly as `npm start` does.
 */
export const START_NODE_FLAGS: readonly string[] = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(/\s+/)
  .filter((word) => word.startsWith('--'));

/** Starts `local/main.ts` as a child process, exactly as `npm start` does, and waits for its banner. */
export async function startRuntimeProcess(
  env: Record<string, string>,
  dataDir = newDataDir(),
): Promise<RuntimeProcess> {
  return startBannerProcess('local/main.ts', env, dataDir, 30_000);
}

/**
 * Starts `emulate/main.ts` as `npm run emulate` does (the synthesized stack on emulated AWS services) and
 * waits for its banner; a first start with new sources synthesizes and bundles, hence the longer wait.
 */
export async function startEmulatorProcess(
  env: Record<string, string>,
  dataDir = newDataDir(),
): Promise<RuntimeProcess> {
  return startBannerProcess('emulate/main.ts', env, dataDir, 180_000);
}

async function startBannerProcess(
  entry: string,
  env: Record<string, string>,
  dataDir: string,
  startTimeoutMs: number,
): Promise<RuntimeProcess> {
  const flags = entry === 'local/main.ts' ? START_NODE_FLAGS : [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', entry], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      DATA_DIR: dataDir,
      INGEST_TOKEN: TEST_TOKEN,
      LOG_LEVEL: 'WARN',
      // Every role the sandbox knows and two it does not, so that tests can see TrueFoundry's own 422; tests
      // of the policy pass their own POLICY_FILE (or '' for none).
      POLICY_FILE: OPEN_POLICY_FILE,
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
      () => reject(new Error(`runtime did not start within ${startTimeoutMs / 1000} s:\n${output}`)),
      startTimeoutMs,
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
