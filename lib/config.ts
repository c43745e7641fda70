import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { bambooHrFieldLabelOverrides } from '../functions/core/ingest/bamboohr/fields';
import { ianaTimeZone } from '../functions/core/ingest/bamboohr/zoned-date';
import { type EffectivePolicy, resolvePolicy } from '../functions/core/policy/policy-file';
import { parseIgnoreList } from '../functions/core/reconcile/ignore';
import { loadRoleMapping, type RoleMappingFile } from '../functions/core/roles/role-mapping';
import { PROJECT_ROOT } from './project-paths';

/*
 * Every setting of a deployment comes from CDK context: `cdk.json` (checked in) or `-c key=value` on the
 * command line (always a string, hence the coercions below). A wrong value fails `cdk synth` with a message
 * naming the context key, long before CloudFormation would reject something less obviously.
 */

/** Lambda's event source mapping for SQS accepts a maximum concurrency of 2 to 1000. */
const MIN_SQS_MAX_CONCURRENCY = 2;

/** The retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** `-c workerBatchSize=5` arrives as the string '5'; cdk.json gives a number. Both are accepted. */
const fromContextString = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (trimmed === 'true') return true;
  if (trimmed === 'false') return false;
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
};

const integer = (min: number, max: number, fallback: number) =>
  z.preprocess(
    fromContextString,
    z
      .number({ error: 'must be a number' })
      .int({ error: 'must be a whole number' })
      .min(min, { error: `must be at least ${min}` })
      .max(max, { error: `must be at most ${max}` })
      .default(fallback),
  );

const positive = (max: number, fallback: number) =>
  z.preprocess(
    fromContextString,
    z
      .number({ error: 'must be a number' })
      .positive({ error: 'must be greater than 0' })
      .max(max, { error: `must be at most ${max}` })
      .default(fallback),
  );

const flag = (fallback: boolean) =>
  z.preprocess(fromContextString, z.boolean({ error: 'must be true or false' }).default(fallback));

const text = () =>
  z.preprocess(fromContextString, z.string({ error: 'must be a string' }).trim().min(1).optional());

const secretArn = () =>
  z.preprocess(
    fromContextString,
    z
      .string()
      .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/, {
        error:
          'must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
      })
      .optional(),
  );

const kmsKeyArn = () =>
  z.preprocess(
    fromContextString,
    z
      .string()
      .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/, {
        error: 'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)',
      })
      .optional(),
  );

/**
 * The context keys, their defaults and limits. docs/deploy.md lists the same keys for operators.
 */
export const contextSchema = z
  .object({
    /** Names the stack `HrProvisioning-<stage>`, so several copies (dev, prod) deploy side by side. */
    stage: z.preprocess(
      fromContextString,
      z
        .string({ error: 'must be a string' })
        .regex(/^[a-z][a-z0-9-]{0,19}$/, {
          error:
            'must start with a lowercase letter and hold at most 20 lowercase letters, digits or hyphens',
        })
        .default('dev'),
    ),
    /** `register` pre-registers users (no e-mail); `invite` sends TrueFoundry's invitation e-mail. */
    tfyProvisionMode: z.preprocess(
      fromContextString,
      z.enum(['register', 'invite'], { error: "must be 'register' or 'invite'" }).default('register'),
    ),
    /** Where an invitation e-mail's link leads; required in invite mode. */
    tfyAcceptInviteUrl: z.preprocess(
      fromContextString,
      z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
    ),
    tfyTenantName: text(),
    /** Delete the TrueFoundry user after deactivating it on offboard (default: keep it, deactivated). */
    tfyDeleteAfterOffboard: flag(false),
    /** TrueFoundry calls per second across all worker instances, shared through a token bucket in the table. */
    tfyRateLimitRps: positive(1_000, 20),
    /** Worker instances at most (the SQS event source's maximum concurrency). */
    workerMaxConcurrency: integer(MIN_SQS_MAX_CONCURRENCY, 1_000, 5),
    /** Messages per worker invocation (FIFO queues deliver at most 10). */
    workerBatchSize: integer(1, 10, 10),
    workerTimeoutSeconds: integer(10, 900, 60),
    workerMemoryMb: integer(128, 10_240, 512),
    ingestMemoryMb: integer(128, 10_240, 1_024),
    /** Attempts at an event (deliveries that ran it, counted in DynamoDB) before a transient failure is final. */
    maxAttempts: integer(1, 100, 5),
    /**
     * Receives of a message before SQS moves it to the dead-letter queue: only a safety net, since receives
     * also count deliveries held back behind a failing event of the same person. The worker fails and
     * dead-letters a message on this receive itself, with its reason.
     */
    maxReceiveCount: integer(2, 1_000, 100),
    /** Days terminal events stay in DynamoDB before TTL removes them. */
    retentionDays: integer(1, 3_650, 30),
    /**
     * The offboarding guard: at most this many offboards deactivate within offboardGuardWindowMinutes; the
     * rest are held for an operator (`hr-provisioning holds`). 0 turns it off. At most 500: the window is one
     * DynamoDB item listing the admitted events, which must stay far below the 400 KB item limit.
     */
    offboardGuardMax: integer(0, 500, 25),
    offboardGuardWindowMinutes: integer(1, 10_080, 60),
    /**
     * Write emails into the functions' log lines as they are (LOG_EMAILS), for debugging; default: each
     * email is logged as a digest, `<email:…>`, since logs outlive the state's retention.
     */
    logEmails: flag(false),
    /** Days the Lambda and API access logs are kept (a value CloudWatch Logs accepts). */
    logRetentionDays: z.preprocess(
      fromContextString,
      z.literal(LOG_RETENTION_DAYS, { error: `must be one of ${LOG_RETENTION_DAYS.join(', ')}` }).default(30),
    ),
    /** `retain` keeps the table, queues, secrets and logs when the stack is deleted; `destroy` removes them. */
    removalPolicy: z.preprocess(
      fromContextString,
      z.enum(['retain', 'destroy'], { error: "must be 'retain' or 'destroy'" }).default('retain'),
    ),
    /** Use an existing TrueFoundry secret instead of creating one. */
    tfySecretArn: secretArn(),
    /** The customer managed KMS key that encrypts an imported TrueFoundry secret, if any. */
    tfySecretKmsKeyArn: kmsKeyArn(),
    /** Use an existing ingest secret instead of creating one. */
    ingestSecretArn: secretArn(),
    /** The customer managed KMS key that encrypts an imported ingest secret, if any. */
    ingestSecretKmsKeyArn: kmsKeyArn(),
    /** Subscribe this address to the alarm topic (confirm the e-mail AWS sends). */
    alarmEmail: z.preprocess(fromContextString, z.email({ error: 'must be an e-mail address' }).optional()),
    /** API Gateway throttling of each ingest route (POST): steady requests per second and burst. */
    apiThrottleRateLimit: positive(10_000, 50),
    apiThrottleBurstLimit: integer(1, 5_000, 100),
    /**
     * Throttling of each operator route (the IAM routes: reads, forget), apart from the ingest routes, so a
     * flood of unauthenticated posts never takes the operators' reads with it.
     */
    apiOperatorThrottleRateLimit: positive(10_000, 5),
    apiOperatorThrottleBurstLimit: integer(1, 5_000, 10),
    /**
     * A customer managed KMS key for the log groups (functions and API access logs). Its key policy must let
     * CloudWatch Logs (`logs.<region>.amazonaws.com`) use it; default: CloudWatch Logs' own encryption.
     */
    logsKmsKeyArn: kmsKeyArn(),
    /**
     * Create the account-wide role API Gateway needs to write execution logs. Set false where the account's
     * API Gateway settings already name a CloudWatch role (one per account and region is enough).
     */
    apiGatewayCloudWatchRole: flag(true),
    /** The role-mapping rules, relative to the project root; inlined into the worker bundle. */
    roleMappingFile: z.preprocess(
      fromContextString,
      z.string({ error: 'must be a file path' }).min(1).default('config/role-mapping.json'),
    ),
    /**
     * The policy file (role ceiling, sources that may carry roles, protected accounts, e-mail domains),
     * relative to the project root; validated with the role mapping and inlined into both functions.
     * Unset: no policy, the ceiling is the roles the role mapping grants.
     */
    policyFile: text(),
    /** The BambooHR company subdomain (`acme` for acme.bamboohr.com), for the ingest λ's API lookups. */
    bamboohrCompanyDomain: z.preprocess(
      fromContextString,
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]*$/i, { error: 'must be the company subdomain only, e.g. acme' })
        .optional(),
    ),
    /**
     * The IANA zone whose days BambooHR's hire and termination dates are, e.g. Europe/Berlin: an offboard or a
     * hire takes effect at 00:00 of the date there. The ingest λ's BAMBOOHR_TIME_ZONE; unset: UTC.
     */
    bamboohrTimeZone: z.preprocess(fromContextString, ianaTimeZone.optional()),
    /** Labels of renamed BambooHR fields, e.g. { "workEmail": "Company Email" } (JSON on the command line). */
    bamboohrFieldLabels: z.preprocess(
      (value) => (typeof value === 'string' && value.trim().startsWith('{') ? JSON.parse(value) : value),
      bambooHrFieldLabelOverrides.optional(),
    ),
    /**
     * Accounts POST /reconcile lists under `ignored` and never touches (service accounts, admins): email globs
     * (`*`, `?`), comma-separated on the command line or a list in cdk.json; the operator λ's RECONCILE_IGNORE.
     * Unset: none.
     */
    reconcileIgnore: z.preprocess(
      (value) => (typeof value === 'string' ? parseIgnoreList(value) : value),
      z
        .array(
          z
            .string({ error: 'must be a string' })
            .trim()
            .regex(/^[^\s,]+$/, {
              error: 'must be an email glob without spaces or commas, e.g. svc-*@example.com',
            }),
          { error: 'must be comma-separated email globs or a list of them' },
        )
        .default([]),
    ),
  })
  .superRefine((config, ctx) => {
    if (config.tfyProvisionMode === 'invite' && !config.tfyAcceptInviteUrl) {
      ctx.addIssue({
        code: 'custom',
        path: ['tfyAcceptInviteUrl'],
        message: "is required when tfyProvisionMode is 'invite' (the link in the invitation e-mail)",
      });
    }
    if (config.tfySecretKmsKeyArn && !config.tfySecretArn) {
      ctx.addIssue({
        code: 'custom',
        path: ['tfySecretKmsKeyArn'],
        message: 'is only used with tfySecretArn',
      });
    }
    if (config.ingestSecretKmsKeyArn && !config.ingestSecretArn) {
      ctx.addIssue({
        code: 'custom',
        path: ['ingestSecretKmsKeyArn'],
        message: 'is only used with ingestSecretArn',
      });
    }
  });

export type ContextSettings = z.output<typeof contextSchema>;
export type ContextKey = keyof ContextSettings;
export const CONTEXT_KEYS = Object.keys(contextSchema.shape) as ContextKey[];

/** The validated configuration of one deployment: the context settings plus the checked role mapping. */
export type HrProvisioningConfig = ContextSettings & {
  /** The role-mapping file's content, validated by the same loader the worker uses. */
  roleMapping: RoleMappingFile;
  /** The policy in force, its defaults filled in from the role mapping and checked against it. */
  policy: EffectivePolicy;
};

/** A configuration mistake; the message names the context key and says what is expected. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** Anything that can answer `tryGetContext`: an App's or a Stack's `node`. */
export type ContextSource = { tryGetContext(key: string): unknown };

/** Reads and validates the context keys and the role-mapping file; throws ConfigurationError on any mistake. */
export function readConfig(source: ContextSource): HrProvisioningConfig {
  const raw = Object.fromEntries(CONTEXT_KEYS.map((key) => [key, source.tryGetContext(key)]));
  const parsed = contextSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.');
      const given = raw[key as ContextKey];
      const got = given === undefined ? '' : ` (got ${JSON.stringify(given)})`;
      return `  - context "${key}": ${issue.message}${got}`;
    });
    throw new ConfigurationError(
      `Invalid CDK context (cdk.json "context" or -c key=value):\n${problems.join('\n')}`,
    );
  }
  const roleMapping = readRoleMappingFile(parsed.data.roleMappingFile);
  const policy = readPolicyFile(parsed.data.policyFile, roleMapping, parsed.data.roleMappingFile);
  return { ...parsed.data, roleMapping, policy };
}

/**
 * Loads the role-mapping file and validates it with the worker's own loader, so a mistake fails synth
 * with the validator's message rather than every hire at run time.
 */
export function readRoleMappingFile(file: string): RoleMappingFile {
  const path = isAbsolute(file) ? file : resolve(PROJECT_ROOT, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigurationError(
      `context "roleMappingFile": cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(
      `context "roleMappingFile": ${path} is not valid JSON: ${(error as Error).message}`,
    );
  }
  try {
    loadRoleMapping(json, `role mapping ${file}`);
  } catch (error) {
    throw new ConfigurationError(`context "roleMappingFile": ${(error as Error).message}`);
  }
  return json as RoleMappingFile;
}

/**
 * Loads the policy file (none: the defaults) and resolves it against the role mapping with the runtime's own
 * code, so a mistake, or a rule granting a role above the ceiling, fails synth naming the path or the rule.
 */
export function readPolicyFile(
  file: string | undefined,
  roleMapping: RoleMappingFile,
  roleMappingFile = 'file',
): EffectivePolicy {
  const mapping = loadRoleMapping(roleMapping);
  const fail = (message: string) => new ConfigurationError(`context "policyFile": ${message}`);
  if (file === undefined) return resolvePolicy(undefined, mapping);
  const path = isAbsolute(file) ? file : resolve(PROJECT_ROOT, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw fail(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (error) {
    throw fail(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return resolvePolicy({ content, name: file }, mapping, `the role mapping ${roleMappingFile}`);
  } catch (error) {
    throw fail((error as Error).message);
  }
}
