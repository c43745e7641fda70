import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SignatureV4Init } from '@smithy/signature-v4';
import type { CliOutput } from './output';

/** What credentials the SigV4 signer takes: fixed keys or a provider such as the default chain. */
export type AwsCredentials = SignatureV4Init['credentials'];

/**
 * Everything the CLI touches outside itself, passed in so that tests drive it in-process: output, the
 * environment, the working directory, and optionally the network, the clock, waiting and AWS credentials.
 */
export type CliIo = {
  stdout: CliOutput;
  stderr: CliOutput;
  env: Record<string, string | undefined>;
  cwd: string;
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  awsCredentials?: AwsCredentials;
};

/** CliIo with every optional part filled in. */
export type CliContext = Required<Omit<CliIo, 'awsCredentials'>> & Pick<CliIo, 'awsCredentials'>;

export function contextOf(io: CliIo): CliContext {
  return {
    ...io,
    fetch: io.fetch ?? globalThis.fetch,
    now: io.now ?? Date.now,
    sleep: io.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms))),
  };
}

/** Exit codes: 0 all good, 1 the command could not do its job, 2 it did but some rows were rejected. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_REJECTED_ROWS = 2;

/**
 * A failure the operator can act on. The message says what went wrong and what to do next; it is printed
 * as is, without a stack trace.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A file named on the command line, read whole; a failure names the file and says why in words. */
export async function readInputFile(
  name: string,
  cwd: string,
): Promise<{ path: string; bytes: Buffer; mtimeMs: number }> {
  const path = resolve(cwd, name);
  try {
    const stats = await stat(path);
    if (stats.isDirectory()) throw new CliError(`${name} is a directory; name a file`);
    return { path, bytes: await readFile(path), mtimeMs: stats.mtimeMs };
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${name}: ${reasonOf(error)}`);
  }
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}
