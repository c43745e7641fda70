import type { SignatureV4Init } from '@smithy/signature-v4';
import { printableLines } from './format/printable';

/** Where the CLI writes: process.stdout/stderr in real use, string buffers in tests. */
export type CliOutput = { write(text: string): unknown; isTTY?: boolean; columns?: number };

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

/**
 * Writes whole lines, so commands never forget the newline, with every control and invisible character
 * in them escaped (format/printable.ts): nothing from the server reaches the terminal raw.
 */
export const writeLines = (out: CliOutput, lines: readonly string[]): void => {
  if (lines.length > 0) out.write(`${lines.map(printableLines).join('\n')}\n`);
};
