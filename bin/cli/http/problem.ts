import type { ErrorBody } from '../../../functions/core/ingest/http';
import { CliError } from '../cli-error';

export type ApiAnswer = { status: number; body: unknown };

/** The API's error body; API Gateway's own refusals carry only `message`. */
export function problemOf(body: unknown): Partial<ErrorBody> {
  if (typeof body !== 'object' || body === null) return typeof body === 'string' ? { message: body } : {};
  return body as Partial<ErrorBody>;
}

/** An answer the command has no special meaning for: the status and the server's own sentence. */
export function unexpectedAnswer(action: string, answer: ApiAnswer): CliError {
  const problem = problemOf(answer.body);
  const message = problem.message ?? problem.error ?? 'no explanation in the answer';
  return new CliError(`${action} failed: HTTP ${answer.status}: ${message}`);
}
