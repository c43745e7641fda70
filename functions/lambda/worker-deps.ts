import { createDynamoDbStateStore, SharedRateLimiter, StateTable } from '../core/adapters/dynamodb';
import type { ConvergenceDeps } from '../core/engine/converge-event';
import type { MessageBudget } from '../core/engine/handle-event-message';
import { powertoolsLog } from '../core/observability/log';
import { DEFAULT_ROLE_MAPPING, loadRoleMapping, type RoleMapping } from '../core/roles/role-mapping';
import { CredentialedUsersApiProvider } from '../core/truefoundry/client-provider';
import { dynamoDb } from './aws-clients';
import { bundledWorkerPolicy } from './bundled-policy';
import { readEnvironment, workerEnvironment } from './environment';
import { logger } from './observability';
import { trueFoundryCredentialsFrom } from './secrets';

export type WorkerDeps = ConvergenceDeps &
  MessageBudget & {
    dlqUrl: string;
    /**
     * The event queue's URL, from the stack. Absent, it is rebuilt from a record's ARN, which names the
     * public endpoint: wrong wherever the SDK is pointed elsewhere (a VPC endpoint, the emulator).
     */
    queueUrl?: string;
    tfyTimeoutMs: number;
  };

/** Everything the worker needs, built once per cold start from its environment. */
export function workerDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): WorkerDeps {
  const config = readEnvironment(workerEnvironment, env);
  // Written out literally: the stack's esbuild `define` replaces exactly these expressions with the validated files.
  const roleMapping = roleMappingOf(process.env.ROLE_MAPPING_JSON);
  const policy = bundledWorkerPolicy(process.env.POLICY_JSON, roleMapping);
  return {
    store: createDynamoDbStateStore({
      client: dynamoDb,
      tableName: config.TABLE_NAME,
      retentionDays: config.RETENTION_DAYS,
    }),
    api: new CredentialedUsersApiProvider(trueFoundryCredentialsFrom(config.TFY_SECRET_ARN), {
      timeoutMs: config.TFY_TIMEOUT_MS,
      // The tenant's whole rate, shared by every instance through the state table.
      rateLimiter: new SharedRateLimiter(new StateTable(dynamoDb, config.TABLE_NAME), {
        requestsPerSecond: config.TFY_RATE_LIMIT_RPS,
      }),
    }),
    config: {
      provisionMode: config.TFY_PROVISION_MODE,
      ...(config.TFY_ACCEPT_INVITE_URL ? { acceptInviteUrl: config.TFY_ACCEPT_INVITE_URL } : {}),
      ...(config.TFY_TENANT_NAME ? { tenantName: config.TFY_TENANT_NAME } : {}),
      deleteAfterOffboard: config.TFY_DELETE_AFTER_OFFBOARD,
      roleMapping,
      policy,
      // Longer than a step can take with the client's retries (timeout × attempts), shorter than visibility.
      leaseMs: config.TFY_TIMEOUT_MS * 5,
      notVisibleRetryMs: 5_000,
      unknownCreateBoundMs: config.UNKNOWN_CREATE_BOUND_SECONDS * 1000,
    },
    log: powertoolsLog(logger),
    maxAttempts: config.MAX_ATTEMPTS,
    maxReceiveCount: config.MAX_RECEIVE_COUNT,
    tfyTimeoutMs: config.TFY_TIMEOUT_MS,
    ...(config.QUEUE_URL ? { queueUrl: config.QUEUE_URL } : {}),
    dlqUrl: config.DLQ_URL,
  };
}

function roleMappingOf(json: string | undefined): RoleMapping {
  return json ? loadRoleMapping(JSON.parse(json), 'the bundled role mapping') : DEFAULT_ROLE_MAPPING;
}
