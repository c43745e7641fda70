import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../../bin/cli/cli-io';
import { runCli } from '../../../bin/cli/run-cli';
import { loadLocalConfig } from '../../../functions/commons/settings';
import { type Runtime, startRuntime } from '../../../local/runtime';

export type CliRun = { code: number; stdout: string; stderr: string };

/** An output stream that keeps what was written, as a pipe would (not a terminal). */
export class CapturedOutput {
  text = '';
  isTTY = false;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Runs the CLI in-process with captured output; `io` overrides env, cwd, fetch and the rest per call. */
export async function runCapturing(argv: string[], io: Omit<CliIo, 'stdout' | 'stderr'>): Promise<CliRun> {
  const stdout = new CapturedOutput();
  const stderr = new CapturedOutput();
  const code = await runCli(argv, { ...io, stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export function temporaryDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export type TestRuntime = {
  runtime: Runtime;
  dataDir: string;
  /** A working directory for files the tests write. */
  workDir: string;
  /** The environment an operator on this machine would have: the runtime's port and data dir, no token. */
  env: Record<string, string>;
  cli: (argv: string[], io?: Partial<Omit<CliIo, 'stdout' | 'stderr'>>) => Promise<CliRun>;
  close: () => Promise<void>;
};

/**
 * A real local runtime on a random port with its own data dir and the built-in TrueFoundry sandbox, and a
 * CLI runner pointed at it the way an operator's would be (PORT and DATA_DIR, the token found on disk).
 */
export async function startTestRuntime(extraEnv: Record<string, string> = {}): Promise<TestRuntime> {
  const dir = temporaryDir('hrp-cli-');
  const dataDir = join(dir.path, 'data');
  const runtime = await startRuntime(
    loadLocalConfig({
      PORT: '0',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'SILENT',
      // The tests' events should not wait on the production pacing of TrueFoundry calls.
      TFY_RATE_LIMIT_RPS: '10000',
      ...extraEnv,
    }),
  );
  const env = { PORT: new URL(runtime.url).port, DATA_DIR: dataDir };
  return {
    runtime,
    dataDir,
    workDir: dir.path,
    env,
    cli: (argv, io = {}) => runCapturing(argv, { env, cwd: dir.path, sleep: async () => {}, ...io }),
    close: async () => {
      await runtime.close(1000);
      dir.remove();
    },
  };
}

/** Polls until `probe` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** The event's status as `status --json` shows it, once it is terminal. */
export async function terminalStatus(rt: TestRuntime, id: string): Promise<string> {
  return waitFor(async () => {
    const run = await rt.cli(['status', id, '--json']);
    if (run.code !== 0) return undefined;
    const status = (JSON.parse(run.stdout) as { status: string }).status;
    return ['succeeded', 'superseded', 'failed'].includes(status) ? status : undefined;
  }, `event ${id} to finish`);
}
