import { z } from 'zod';
import { issuesOf, ValidationError } from '../core/events/validation-issues';
import { bambooHrFieldLabelsJson } from '../core/ingest/bamboohr/field-labels';

const required = z.string({ error: 'must be set' }).trim().min(1, { error: 'must be set' });
const optional = z
  .string()
  .transform((s) => s.trim() || undefined)
  .optional();
const number = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? fallback : Number(s)))
    .pipe(z.number().positive({ error: 'must be a positive number' }));

export const ingestEnvironment = z.object({
  TABLE_NAME: required,
  QUEUE_URL: required,
  INGEST_SECRET_ARN: required,
  BAMBOOHR_COMPANY_DOMAIN: optional,
  BAMBOOHR_FIELD_LABELS: optional.pipe(bambooHrFieldLabelsJson.optional()),
  RETENTION_DAYS: number(30),
});

export const workerEnvironment = z.object({
  TABLE_NAME: required,
  DLQ_URL: required,
  /** The event queue, for handing records back with a delay. */
  QUEUE_URL: optional,
  TFY_SECRET_ARN: required,
  TFY_PROVISION_MODE: z
    .enum(['register', 'invite'], { error: 'must be register or invite' })
    .default('register'),
  TFY_ACCEPT_INVITE_URL: optional,
  TFY_TENANT_NAME: optional,
  TFY_DELETE_AFTER_OFFBOARD: z
    .string()
    .optional()
    .transform((s) => s === 'true'),
  /** The tenant's rate, shared by every worker instance (a token bucket in the state table). */
  TFY_RATE_LIMIT_RPS: number(20),
  TFY_TIMEOUT_MS: number(20_000),
  /** Attempts (deliveries that ran the event, counted in the store) before a transient failure is final. */
  MAX_ATTEMPTS: number(5),
  /** The queue's redrive maxReceiveCount: the worker fails and dead-letters a message on that receive itself. */
  MAX_RECEIVE_COUNT: number(100),
  RETENTION_DAYS: number(30),
  /** How long a create that may have happened (timeout, 5xx, crash) holds back another create of the account. */
  UNKNOWN_CREATE_BOUND_SECONDS: number(120),
});

/** Reads a function's environment at cold start; a misconfigured function fails at once, naming the variable. */
export function readEnvironment<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const parsed = schema.safeParse(env, { reportInput: true });
  if (!parsed.success) throw new ValidationError(issuesOf(parsed.error), 'invalid function environment');
  return parsed.data;
}
