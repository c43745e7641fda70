import { resolve } from 'node:path';
import { z } from 'zod';
import { issuesOf, ValidationError, type ValidationIssue } from '../functions/core/events/validation-issues';
import { bambooHrFieldLabelsJson } from '../functions/core/ingest/bamboohr/field-labels';
import {
  bamboohrWebhookKeyProblem,
  checkedWith,
  MIN_INGEST_TOKEN_LENGTH,
  webhookSecretProblem,
} from '../functions/core/ingest/credential-rules';
import { trueFoundryBaseUrlProblem } from '../functions/core/truefoundry/base-url';

const optional = z
  .string()
  .transform((s) => s.trim() || undefined)
  .optional();
const positiveInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? fallback : Number(s)))
    .pipe(z.number().int({ error: 'must be a whole number' }).positive({ error: 'must be positive' }));
const flag = z
  .string()
  .optional()
  .transform((s) => s !== undefined && /^(1|true|yes|on)$/i.test(s.trim()));

/** The local runtime's environment, names fixed (see README). */
const environmentSchema = z.object({
  PORT: z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? 8787 : Number(s)))
    .pipe(z.number().int().min(0).max(65535, { error: 'must be a port number' })),
  HOST: optional.transform((s) => s ?? '127.0.0.1'),
  DATA_DIR: optional.transform((s) => resolve(s ?? '.data')),
  // https, or http to this machine only: the API key travels with every call.
  TFY_BASE_URL: optional.pipe(checkedWith(trueFoundryBaseUrlProblem).optional()),
  TFY_API_KEY: optional,
  TFY_TENANT_NAME: optional,
  TFY_RATE_LIMIT_RPS: positiveInt(20),
  TFY_TIMEOUT_MS: positiveInt(30_000),
  TFY_PROVISION_MODE: optional.pipe(
    z.enum(['register', 'invite'], { error: 'must be register or invite' }).default('register'),
  ),
  TFY_ACCEPT_INVITE_URL: optional.pipe(z.url({ error: 'must be a URL' }).optional()),
  TFY_DELETE_AFTER_OFFBOARD: flag,
  // Weak keys are refused at start-up, naming the variable and never its value (credential-rules.ts).
  WEBHOOK_SECRET: optional.pipe(checkedWith(webhookSecretProblem).optional()),
  INGEST_TOKEN: optional.pipe(
    z
      .string()
      .min(MIN_INGEST_TOKEN_LENGTH, { error: `must be at least ${MIN_INGEST_TOKEN_LENGTH} characters` })
      .optional(),
  ),
  BAMBOOHR_WEBHOOK_KEY: optional.pipe(checkedWith(bamboohrWebhookKeyProblem).optional()),
  BAMBOOHR_API_KEY: optional,
  BAMBOOHR_COMPANY_DOMAIN: optional,
  BAMBOOHR_BASE_URL: optional.pipe(z.url().optional()),
  /** Label overrides for renamed BambooHR fields, JSON, e.g. {"workEmail":"Company Email"}. */
  BAMBOOHR_FIELD_LABELS: optional.pipe(bambooHrFieldLabelsJson.optional()),
  ROLE_MAPPING_FILE: optional,
  /** The policy (role ceiling, sources, protected accounts, domains); unset: none, see README "Policy". */
  POLICY_FILE: optional,
  WORKER_CONCURRENCY: positiveInt(16),
  /** Attempts (deliveries that ran the event) before a transient failure is final. */
  MAX_ATTEMPTS: positiveInt(5),
  /** Deliveries before the queue buries a message itself: a safety net for a worker that keeps crashing. */
  MAX_RECEIVE_COUNT: positiveInt(10),
  VISIBILITY_TIMEOUT_SECONDS: positiveInt(180),
  RETENTION_DAYS: positiveInt(30),
  /** How long a create that may have happened (timeout, 5xx, crash) holds back another create of the account. */
  UNKNOWN_CREATE_BOUND_SECONDS: positiveInt(120),
  LOG_LEVEL: optional.pipe(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO')),
  /** Write emails into log lines as they are (debugging); otherwise each is a digest, `<email:…>`. */
  LOG_EMAILS: flag,
});

export type LocalConfig = z.output<typeof environmentSchema>;

/** Reads and checks the environment; every wrong variable is named in one error. */
export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const parsed = environmentSchema.safeParse(env, { reportInput: true });
  const issues = [...(parsed.success ? [] : issuesOf(parsed.error)), ...combinationIssues(env)];
  if (!parsed.success || issues.length > 0) throw new ValidationError(issues, 'invalid environment');
  return parsed.data;
}

// Checked on the raw values so that they are reported together with any other mistake.
function combinationIssues(env: NodeJS.ProcessEnv): ValidationIssue[] {
  const set = (name: string) => (env[name]?.trim() ?? '') !== '';
  const issues: ValidationIssue[] = [];
  if (set('TFY_BASE_URL') && !set('TFY_API_KEY')) {
    issues.push({ path: 'TFY_API_KEY', message: 'is required when TFY_BASE_URL is set' });
  }
  if (env.TFY_PROVISION_MODE?.trim() === 'invite' && !set('TFY_ACCEPT_INVITE_URL')) {
    issues.push({ path: 'TFY_ACCEPT_INVITE_URL', message: 'is required when TFY_PROVISION_MODE is invite' });
  }
  return issues;
}
