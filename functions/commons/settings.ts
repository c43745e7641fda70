import { resolve } from 'node:path';
import * as z from 'zod';
import { issuesOf, ValidationError, type ValidationIssue } from '../core/events/validation-issues';
import {
  bamboohrWebhookKeyProblem,
  checkedWith,
  MIN_INGEST_TOKEN_LENGTH,
  webhookSecretProblem,
} from '../core/ingest/authenticate';
import { bambooHrFieldLabelsJson } from '../core/ingest/bamboohr/fields';
import { ianaTimeZone } from '../core/ingest/bamboohr/zoned-date';
import { parseIgnoreList } from '../core/reconcile/ignore';
import { trueFoundryBaseUrlProblem } from '../core/truefoundry/credentials';

/*
 * The settings of both runtimes, read from their environment once at start: the Lambda functions' (written
 * by the stack) and `npm start`'s (written by the operator; README). Each runtime's schema is built from the
 * same parts, so a variable has one meaning, one rule and one default wherever it is read. No AWS SDK here:
 * the local runtime reads this module too.
 */

/** Set and not blank. */
const required = z.string({ error: 'must be set' }).trim().min(1, { error: 'must be set' });
/** Trimmed; blank reads as unset. */
const optional = z
  .string()
  .transform((s) => s.trim() || undefined)
  .optional();
/** A number; unset or blank reads as `fallback`. */
const numberOr = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? fallback : Number(s)));
const positiveNumber = (fallback: number) =>
  numberOr(fallback).pipe(z.number().positive({ error: 'must be a positive number' }));
const positiveInt = (fallback: number) =>
  numberOr(fallback).pipe(
    z.number().int({ error: 'must be a whole number' }).positive({ error: 'must be positive' }),
  );
const nonNegativeInt = (fallback: number) =>
  numberOr(fallback).pipe(
    z.number().int({ error: 'must be a whole number' }).nonnegative({ error: 'must not be negative' }),
  );
/** On for 1, true, yes or on (any case); off otherwise, and when unset. */
const flag = z
  .string()
  .optional()
  .transform((s) => s !== undefined && /^(1|true|yes|on)$/i.test(s.trim()));

/**
 * The strength rules of the ingest credentials and the rule of TrueFoundry's URL, wherever they are kept:
 * the local environment, DATA_DIR/secrets.json, the AWS secrets. The messages name the rule, never the value.
 */
export const credentialRules = {
  webhookSecret: checkedWith(webhookSecretProblem),
  ingestToken: z
    .string()
    .min(MIN_INGEST_TOKEN_LENGTH, { error: `must be at least ${MIN_INGEST_TOKEN_LENGTH} characters` }),
  bamboohrWebhookKey: checkedWith(bamboohrWebhookKeyProblem),
  // https, or http to this machine only: the API key travels with every call.
  trueFoundryBaseUrl: checkedWith(trueFoundryBaseUrlProblem),
};

/** Days finished events are kept (DynamoDB TTL on AWS, an hourly purge locally). */
const retentionDays = positiveInt(30);

/**
 * How TrueFoundry is reached and planned for: the engine's, and the ingest app's too, whose previews
 * (`?dryRun=true`) and reconciliation read TrueFoundry with the same client and planner (build-deps.ts).
 */
const trueFoundryShape = {
  TFY_PROVISION_MODE: optional.pipe(
    z.enum(['register', 'invite'], { error: 'must be register or invite' }).default('register'),
  ),
  TFY_ACCEPT_INVITE_URL: optional.pipe(z.url({ error: 'must be a URL' }).optional()),
  TFY_TENANT_NAME: optional,
  TFY_DELETE_AFTER_OFFBOARD: flag,
  /** The tenant's whole rate: on AWS every worker instance shares it (a token bucket in the state table). */
  TFY_RATE_LIMIT_RPS: positiveNumber(20),
  /**
   * Per TrueFoundry request. 20 s in both runtimes (`npm start` had 30 s): the stack never gives a deployed
   * worker more (a quarter of its timeout, at most 20 s), so `npm start` now waits as long as AWS does. A step's
   * lease is five times this, and a Lambda worker starts no step with less than this left.
   */
  TFY_TIMEOUT_MS: positiveInt(20_000),
  /** How long a create that may have happened (timeout, 5xx, crash) holds back another create of the account. */
  UNKNOWN_CREATE_BOUND_SECONDS: positiveInt(120),
};

/** What the convergence engine is told, the same in both runtimes (build-deps.ts turns it into its deps). */
const engineShape = {
  ...trueFoundryShape,
  /** Attempts (deliveries that ran the event, counted in the store) before a transient failure is final. */
  MAX_ATTEMPTS: positiveInt(5),
  RETENTION_DAYS: retentionDays,
  /**
   * The offboarding guard (core/engine/offboard-guard.ts): at most this many offboards deactivate within the
   * window; the rest are held for an operator (`hr-provisioning holds`). 0 turns it off.
   */
  OFFBOARD_GUARD_MAX: nonNegativeInt(25),
  OFFBOARD_GUARD_WINDOW_MINUTES: positiveInt(60),
};

/** What the ingest app is told, the same in both runtimes. */
const ingestShape = {
  BAMBOOHR_COMPANY_DOMAIN: optional,
  /** Label overrides for renamed BambooHR fields, JSON, e.g. {"workEmail":"Company Email"}. */
  BAMBOOHR_FIELD_LABELS: optional.pipe(bambooHrFieldLabelsJson.optional()),
  /**
   * The IANA zone whose days BambooHR's hire and termination dates are (e.g. Europe/Berlin): a hire or an
   * offboard takes effect at 00:00 of the date there. Checked with Intl at start, so a typo fails at once.
   */
  BAMBOOHR_TIME_ZONE: optional.pipe(ianaTimeZone.default('UTC')),
  RETENTION_DAYS: retentionDays,
  /**
   * Accounts POST /reconcile lists under `ignored` and never touches (service accounts, admins): comma-separated
   * email globs, `*` any run of characters, `?` one; case-insensitive. E.g. `svc-*@example.com,admin@example.com`.
   */
  RECONCILE_IGNORE: z
    .string()
    .optional()
    .transform(parseIgnoreList)
    .pipe(
      z.array(z.string().regex(/^\S+$/, { error: 'must be comma-separated email globs without spaces' })),
    ),
};

/**
 * A combination of variables that must go together. Checked on the raw values, so that it is reported
 * together with any other mistake (zod runs no refinement on an object that has other issues).
 */
type Rule = (env: NodeJS.ProcessEnv) => ValidationIssue | undefined;

const set = (env: NodeJS.ProcessEnv, name: string): boolean => (env[name]?.trim() ?? '') !== '';

/** Invite mode sends TrueFoundry's invitation e-mail, whose link leads there (the stack checks it at synth). */
const inviteNeedsUrl: Rule = (env) =>
  env.TFY_PROVISION_MODE?.trim() === 'invite' && !set(env, 'TFY_ACCEPT_INVITE_URL')
    ? { path: 'TFY_ACCEPT_INVITE_URL', message: 'is required when TFY_PROVISION_MODE is invite' }
    : undefined;

const baseUrlNeedsKey: Rule = (env) =>
  set(env, 'TFY_BASE_URL') && !set(env, 'TFY_API_KEY')
    ? { path: 'TFY_API_KEY', message: 'is required when TFY_BASE_URL is set' }
    : undefined;

/** One runtime's settings: its variables and the combinations they must respect. */
export type SettingsSchema<S extends z.ZodType> = { variables: S; rules: readonly Rule[] };

/** The ingest λ (and the operator λ, the same code). */
export const ingestFunctionSettings = {
  variables: z.object({
    ...ingestShape,
    TABLE_NAME: required,
    QUEUE_URL: required,
    INGEST_SECRET_ARN: required,
    ...trueFoundryShape,
    /** TrueFoundry's secret, read-only here: previews and reconciliation. Unset: those routes answer 501. */
    TFY_SECRET_ARN: optional,
  }),
  rules: [inviteNeedsUrl],
} satisfies SettingsSchema<z.ZodType>;

/** The worker λ. */
export const workerFunctionSettings = {
  variables: z.object({
    ...engineShape,
    TABLE_NAME: required,
    DLQ_URL: required,
    /** The event queue, for handing records back with a delay. */
    QUEUE_URL: optional,
    TFY_SECRET_ARN: required,
    /**
     * The queue's redrive maxReceiveCount: the worker fails and dead-letters a message on that receive
     * itself. High, unlike `npm start`'s: SQS also counts the receives of records held back behind a
     * failing one of their group.
     */
    MAX_RECEIVE_COUNT: positiveInt(100),
  }),
  rules: [inviteNeedsUrl],
} satisfies SettingsSchema<z.ZodType>;

/** `npm start`: the whole pipeline in one process, names fixed (its variables: docs/operations.md, "Environment"). */
const localSettings = {
  variables: z.object({
    ...engineShape,
    ...ingestShape,
    PORT: z
      .string()
      .optional()
      .transform((s) => (s === undefined || s.trim() === '' ? 8787 : Number(s)))
      .pipe(z.number().int().min(0).max(65535, { error: 'must be a port number' })),
    HOST: optional.transform((s) => s ?? '127.0.0.1'),
    DATA_DIR: optional.transform((s) => resolve(s ?? '.data')),
    TFY_BASE_URL: optional.pipe(credentialRules.trueFoundryBaseUrl.optional()),
    TFY_API_KEY: optional,
    // Weak keys are refused at start-up, naming the variable and never its value.
    WEBHOOK_SECRET: optional.pipe(credentialRules.webhookSecret.optional()),
    INGEST_TOKEN: optional.pipe(credentialRules.ingestToken.optional()),
    BAMBOOHR_WEBHOOK_KEY: optional.pipe(credentialRules.bamboohrWebhookKey.optional()),
    BAMBOOHR_API_KEY: optional,
    BAMBOOHR_BASE_URL: optional.pipe(z.url().optional()),
    ROLE_MAPPING_FILE: optional,
    /** The policy (role ceiling, sources, protected accounts, domains); unset: none, see docs/configuration.md, "Policy". */
    POLICY_FILE: optional,
    WORKER_CONCURRENCY: positiveInt(16),
    /** Deliveries before the queue buries a message itself: a safety net for a worker that keeps crashing. */
    MAX_RECEIVE_COUNT: positiveInt(10),
    VISIBILITY_TIMEOUT_SECONDS: positiveInt(180),
    LOG_LEVEL: optional.pipe(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO')),
    /** Write emails into log lines as they are (debugging); otherwise each is a digest, `<email:…>`. */
    LOG_EMAILS: flag,
  }),
  rules: [baseUrlNeedsKey, inviteNeedsUrl],
} satisfies SettingsSchema<z.ZodType>;

export type IngestFunctionSettings = z.output<typeof ingestFunctionSettings.variables>;
export type WorkerFunctionSettings = z.output<typeof workerFunctionSettings.variables>;
export type LocalConfig = z.output<typeof localSettings.variables>;
/** The part of either runtime's settings the engine's deps are built from (build-deps.ts). */
export type EngineSettings = z.output<z.ZodObject<typeof engineShape>> & { MAX_RECEIVE_COUNT: number };
/** The part of either runtime's settings TrueFoundry's client and the planner are built from (build-deps.ts). */
export type TrueFoundrySettings = z.output<z.ZodObject<typeof trueFoundryShape>>;
/** The part of either runtime's settings the ingest app's deps are built from (build-deps.ts). */
export type IngestSettings = z.output<z.ZodObject<typeof ingestShape>> &
  TrueFoundrySettings & { BAMBOOHR_BASE_URL?: string };

/** Reads a function's environment at cold start; a misconfigured function fails at once, naming the variable. */
export function readFunctionSettings<S extends z.ZodType>(
  settings: SettingsSchema<S>,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  return readSettings(settings, env, 'invalid function environment');
}

/** Reads and checks `npm start`'s environment; every wrong variable is named in one error. */
export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  return readSettings(localSettings, env, 'invalid environment');
}

function readSettings<S extends z.ZodType>(
  { variables, rules }: SettingsSchema<S>,
  env: NodeJS.ProcessEnv,
  what: string,
): z.output<S> {
  const parsed = variables.safeParse(env, { reportInput: true });
  const issues = [
    ...(parsed.success ? [] : issuesOf(parsed.error)),
    ...rules.map((rule) => rule(env)).filter((issue): issue is ValidationIssue => issue !== undefined),
  ];
  if (!parsed.success || issues.length > 0) throw new ValidationError(issues, what);
  return parsed.data;
}
