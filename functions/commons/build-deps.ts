import type { ConvergenceDeps } from '../core/engine/converge-event';
import type { MessageBudget } from '../core/engine/handle-event-message';
import type { Log, StateStore } from '../core/engine/ports';
import type { IngestCredentials } from '../core/ingest/authenticate';
import type { IngestDeps } from '../core/ingest/ingest-deps';
import type { WebhookIdStore } from '../core/ingest/webhook-ids';
import type { Policy } from '../core/policy/policy';
import { forgetPerson, type PersonQueue } from '../core/privacy/forget-person';
import type { EventQueue } from '../core/queue/event-queue';
import type { RoleMapping } from '../core/roles/role-mapping';
import { CredentialedUsersApiProvider, type CredentialsSource } from '../core/truefoundry/credentials';
import type { Pacer } from '../core/truefoundry/rate-limiter';
import type { EngineSettings, IngestSettings } from './settings';

/*
 * The one wiring of both runtimes: settings (settings.ts) plus the adapters a runtime chose, in; the deps of
 * the engine and of the ingest app, out. Lambda's entry points pass DynamoDB, SQS and Secrets Manager;
 * `npm start` passes SQLite, its queue and its local secrets. No AWS SDK here: the local runtime uses it too.
 */

/**
 * Wait before retrying when a user created moments ago is not visible in TrueFoundry yet. 5 s in both
 * runtimes (`npm start` had 2 s): each retry spends one of the event's MAX_ATTEMPTS, so the longer wait
 * lets the list's lag last about 20 s before the event fails instead of 8 s; and SQS counts visibility
 * in whole seconds anyway.
 */
const NOT_VISIBLE_RETRY_MS = 5_000;

/** A step's lease is this many TrueFoundry timeouts: longer than one step with the client's retries. */
const LEASE_TIMEOUTS = 5;

/** What a runtime wires into the engine. */
export type EngineAdapters = {
  store: StateStore;
  /** TrueFoundry's URL and API key: Secrets Manager on AWS; the environment or the sandbox locally. */
  trueFoundryCredentials: CredentialsSource;
  /** Paces TrueFoundry calls at the tenant's rate: shared through the state table on AWS, in process locally. */
  rateLimiter: (options: { requestsPerSecond: number }) => Pacer;
  roleMapping: RoleMapping;
  policy: Policy | undefined;
  log: Log;
  /**
   * How long a delivered message stays hidden, where the runtime sets it (`npm start`): a step's lease ends
   * before the message can be delivered to another worker. On AWS the stack makes the visibility timeout six
   * worker timeouts, far beyond any lease.
   */
  visibilityTimeoutMs?: number;
};

export type EngineDeps = ConvergenceDeps & MessageBudget;

/** The convergence engine's deps, and the budget handleEventMessage judges deliveries by. */
export function buildEngineDeps(settings: EngineSettings, adapters: EngineAdapters): EngineDeps {
  return {
    store: adapters.store,
    api: new CredentialedUsersApiProvider(adapters.trueFoundryCredentials, {
      timeoutMs: settings.TFY_TIMEOUT_MS,
      rateLimiter: adapters.rateLimiter({ requestsPerSecond: settings.TFY_RATE_LIMIT_RPS }),
    }),
    config: {
      provisionMode: settings.TFY_PROVISION_MODE,
      ...(settings.TFY_ACCEPT_INVITE_URL ? { acceptInviteUrl: settings.TFY_ACCEPT_INVITE_URL } : {}),
      ...(settings.TFY_TENANT_NAME ? { tenantName: settings.TFY_TENANT_NAME } : {}),
      deleteAfterOffboard: settings.TFY_DELETE_AFTER_OFFBOARD,
      roleMapping: adapters.roleMapping,
      policy: adapters.policy,
      // Longer than a step can take with the client's retries (timeout × attempts), shorter than visibility.
      leaseMs: Math.min(
        adapters.visibilityTimeoutMs ?? Number.POSITIVE_INFINITY,
        settings.TFY_TIMEOUT_MS * LEASE_TIMEOUTS,
      ),
      notVisibleRetryMs: NOT_VISIBLE_RETRY_MS,
      unknownCreateBoundMs: settings.UNKNOWN_CREATE_BOUND_SECONDS * 1000,
    },
    log: adapters.log,
    maxAttempts: settings.MAX_ATTEMPTS,
    maxReceiveCount: settings.MAX_RECEIVE_COUNT,
  };
}

/** What a runtime wires into the ingest app. */
export type IngestAdapters = {
  /** The whole state store: the events, and everyone a forget erases. */
  store: StateStore;
  queue: EventQueue;
  /**
   * The queue's copies of a person's messages, erased by a forget before their records, where the runtime can
   * search its queue (`npm start`'s). On AWS the store refuses while the person has events queued, and the
   * CLI purges the dead-letter queue itself.
   */
  personQueue?: PersonQueue;
  credentials: () => Promise<IngestCredentials>;
  webhookIds: WebhookIdStore;
  policy: Policy | undefined;
  log: Log;
};

/** The ingest app's deps (createIngestApp). */
export function buildIngestDeps(settings: IngestSettings, adapters: IngestAdapters): IngestDeps {
  const { store, personQueue, log } = adapters;
  return {
    store: store.events,
    queue: adapters.queue,
    credentials: adapters.credentials,
    webhookIds: adapters.webhookIds,
    bamboohr: {
      ...(settings.BAMBOOHR_COMPANY_DOMAIN ? { companyDomain: settings.BAMBOOHR_COMPANY_DOMAIN } : {}),
      ...(settings.BAMBOOHR_BASE_URL ? { apiBaseUrl: settings.BAMBOOHR_BASE_URL } : {}),
      ...(settings.BAMBOOHR_FIELD_LABELS ? { labels: settings.BAMBOOHR_FIELD_LABELS } : {}),
    },
    policy: adapters.policy,
    forget: (target, by) =>
      forgetPerson(target, by, { store, ...(personQueue ? { queue: personQueue } : {}), log }),
    log,
  };
}
