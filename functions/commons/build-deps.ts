import type { ConvergenceDeps } from '../core/engine/converge-event';
import { DirectoryPages } from '../core/engine/directory-pages';
import type { MessageBudget } from '../core/engine/handle-event-message';
import type { Log, StateStore } from '../core/engine/ports';
import { holdsOperations } from '../core/holds/holds-operator';
import type { IngestCredentials } from '../core/ingest/authenticate';
import type { IngestDeps } from '../core/ingest/ingest-deps';
import type { WebhookIdStore } from '../core/ingest/webhook-ids';
import type { Policy } from '../core/policy/policy';
import { forgetPerson, type PersonQueue } from '../core/privacy/forget-person';
import type { EventQueue } from '../core/queue/event-queue';
import type { RoleMapping } from '../core/roles/role-mapping';
import { scheduleOperations } from '../core/schedule/cancel-event';
import { CredentialedUsersApiProvider, type CredentialsSource } from '../core/truefoundry/credentials';
import type { Pacer } from '../core/truefoundry/rate-limiter';
import type { EngineSettings, IngestSettings, TrueFoundrySettings } from './settings';

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

/** How a runtime reaches TrueFoundry, and the mapping and policy the planner judges by. */
export type TrueFoundryAdapters = {
  /** TrueFoundry's URL and API key: Secrets Manager on AWS; the environment or the sandbox locally. */
  trueFoundryCredentials: CredentialsSource;
  /** Paces TrueFoundry calls at the tenant's rate: shared through the state table on AWS, in process locally. */
  rateLimiter: (options: { requestsPerSecond: number }) => Pacer;
  roleMapping: RoleMapping;
  policy: Policy | undefined;
};

/** What a runtime wires into the engine. */
export type EngineAdapters = TrueFoundryAdapters & {
  store: StateStore;
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
  const trueFoundry = buildTrueFoundry(settings, adapters, adapters.visibilityTimeoutMs);
  return {
    store: adapters.store,
    ...trueFoundry,
    // The engine's alone: previews and reconciliation write nothing, so the guard has nothing to count there.
    config: {
      ...trueFoundry.config,
      offboardGuard: {
        max: settings.OFFBOARD_GUARD_MAX,
        windowMs: settings.OFFBOARD_GUARD_WINDOW_MINUTES * 60_000,
      },
    },
    log: adapters.log,
    // One per process: the runtime's consumer adds the backlog that decides when pages are read.
    directory: new DirectoryPages({ log: adapters.log }),
    maxAttempts: settings.MAX_ATTEMPTS,
    maxReceiveCount: settings.MAX_RECEIVE_COUNT,
  };
}

/**
 * TrueFoundry's client (paced at the tenant's rate) and the convergence config: the engine's, and the ingest
 * app's, whose previews and reconciliation plan with the same planner (and only read).
 */
export function buildTrueFoundry(
  settings: TrueFoundrySettings,
  adapters: TrueFoundryAdapters,
  visibilityTimeoutMs?: number,
): Pick<ConvergenceDeps, 'api' | 'config'> {
  return {
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
        visibilityTimeoutMs ?? Number.POSITIVE_INFINITY,
        settings.TFY_TIMEOUT_MS * LEASE_TIMEOUTS,
      ),
      notVisibleRetryMs: NOT_VISIBLE_RETRY_MS,
      unknownCreateBoundMs: settings.UNKNOWN_CREATE_BOUND_SECONDS * 1000,
    },
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
  /**
   * How ingest reaches TrueFoundry, read-only (previews, reconciliation): the same credentials, role mapping
   * and shared rate as the engine's, so a preview counts against the tenant's one rate. Absent: those routes
   * answer 501.
   */
  trueFoundry?: Omit<TrueFoundryAdapters, 'policy'>;
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
      timeZone: settings.BAMBOOHR_TIME_ZONE,
    },
    policy: adapters.policy,
    ...(adapters.trueFoundry
      ? { trueFoundry: buildTrueFoundry(settings, { ...adapters.trueFoundry, policy: adapters.policy }) }
      : {}),
    forget: (target, by) =>
      forgetPerson(target, by, { store, ...(personQueue ? { queue: personQueue } : {}), log }),
    // Releasing a held event enqueues it again: the ingest app's queue, in the person's message group.
    holds: holdsOperations({ store, queue: adapters.queue, log }),
    schedule: scheduleOperations({ store, log }),
    reconcile: {
      ignore: settings.RECONCILE_IGNORE,
      ownerOf: (email) => store.people.ownerOf(email),
    },
    log,
  };
}
