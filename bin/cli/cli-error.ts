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
