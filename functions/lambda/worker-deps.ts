import { dynamoDb } from '../commons/aws-clients';
import { buildEngineDeps, type EngineDeps } from '../commons/build-deps';
import { log } from '../commons/powertools';
import { readFunctionSettings, workerFunctionSettings } from '../commons/settings';
import { createDynamoDbStateStore, SharedRateLimiter, StateTable } from '../core/adapters/dynamodb';
import { DEFAULT_ROLE_MAPPING, loadRoleMapping, type RoleMapping } from '../core/roles/role-mapping';
import { bundledWorkerPolicy } from './bundled-policy';
import { recordsInProgress } from './records-in-progress';
import { trueFoundryCredentialsFrom } from './secrets';

export type WorkerDeps = EngineDeps & {
  dlqUrl: string;
  /**
   * The event queue's URL, from the stack. Absent, it is rebuilt from a record's ARN, which names the
   * public endpoint: wrong wherever the SDK is pointed elsewhere (a VPC endpoint, the emulator).
   */
  queueUrl?: string;
  tfyTimeoutMs: number;
};

/** Everything the worker needs, built once per cold start from its environment: the AWS adapters. */
export function workerDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): WorkerDeps {
  const settings = readFunctionSettings(workerFunctionSettings, env);
  // Written out literally: the stack's esbuild `define` replaces exactly these expressions with the validated files.
  const roleMapping = roleMappingOf(process.env.ROLE_MAPPING_JSON);
  const policy = bundledWorkerPolicy(process.env.POLICY_JSON, roleMapping);
  const engine = buildEngineDeps(settings, {
    store: createDynamoDbStateStore({
      client: dynamoDb,
      tableName: settings.TABLE_NAME,
      retentionDays: settings.RETENTION_DAYS,
    }),
    trueFoundryCredentials: trueFoundryCredentialsFrom(settings.TFY_SECRET_ARN),
    // The tenant's whole rate, shared by every instance through the state table.
    rateLimiter: (rate) => new SharedRateLimiter(new StateTable(dynamoDb, settings.TABLE_NAME), rate),
    roleMapping,
    policy,
    log,
  });
  return {
    ...engine,
    // The invocation's records in progress: a full batch of hires reads TrueFoundry's users in pages.
    backlog: recordsInProgress,
    tfyTimeoutMs: settings.TFY_TIMEOUT_MS,
    ...(settings.QUEUE_URL ? { queueUrl: settings.QUEUE_URL } : {}),
    dlqUrl: settings.DLQ_URL,
  };
}

/** The role mapping the stack bundled (`ROLE_MAPPING_JSON`); none: the default. The ingest λ reads it too. */
export function roleMappingOf(json: string | undefined): RoleMapping {
  return json ? loadRoleMapping(JSON.parse(json), 'the bundled role mapping') : DEFAULT_ROLE_MAPPING;
}
