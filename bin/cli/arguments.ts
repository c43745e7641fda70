import { parseArgs } from 'node:util';
import { CliError } from './cli-io';

/** Options every command takes: where the API is and how to reach it. */
export const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  'data-dir': { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type GlobalValues = {
  url?: string;
  token?: string;
  'data-dir'?: string;
  region?: string;
  help?: boolean;
};

/**
 * The command word (and the words after it), found before the command's own options are known: global
 * options are parsed here so that `--url x send f` does not take `x` for the command. Unknown options are
 * left for the command's own strict parse to accept or refuse.
 */
export function commandWordsOf(argv: readonly string[]): { words: string[]; help: boolean } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: GLOBAL_OPTIONS,
    strict: false,
    allowPositionals: true,
  });
  return { words: positionals, help: values.help === true };
}

/** parseArgs' own errors name the option; this turns them into a CLI error that also points at help. */
export function parseCommandArgs<T>(parse: () => T, command: string): T {
  try {
    return parse();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(`${message}\nsee: hr-provisioning ${command} --help`);
  }
}

/** A whole-number option within bounds, or a message naming the option and the range. */
export function wholeNumber(
  value: string | undefined,
  option: string,
  bounds: { min: number; max: number; fallback: number },
): number {
  if (value === undefined) return bounds.fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < bounds.min || number > bounds.max) {
    throw new CliError(
      `--${option} must be a whole number from ${bounds.min} to ${bounds.max} (got "${value}")`,
    );
  }
  return number;
}

/** Refuses stray words, so a misplaced option value does not pass silently. */
export function noMoreWords(words: readonly string[], command: string): void {
  if (words.length > 0) {
    throw new CliError(`unexpected argument "${words[0]}"\nsee: hr-provisioning ${command} --help`);
  }
}
