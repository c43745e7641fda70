import type { ConvergenceConfig } from '../engine/converge-event';
import type { EventStore, Log, UsersApiProvider } from '../engine/ports';
import type { HoldsOperations } from '../holds/holds-operator';
import type { Policy } from '../policy/policy';
import type { ForgetReport, ForgetTarget } from '../privacy/forget-person';
import type { EventQueue } from '../queue/event-queue';
import type { ScheduleOperations } from '../schedule/cancel-event';
import type { UnitOfWork } from './accept-events';
import type { AuthResult, IngestCredentials } from './authenticate';
import type { BambooHrDirectory } from './bamboohr/directory';
import type { BambooHrFieldLabels } from './bamboohr/fields';
import type { WebhookIdStore } from './webhook-ids';

/*
 * What the ingest app is wired with and hands its routes. Types only, and no route's: the app imports the
 * routes and the routes import these, so nothing here may import a route.
 */

/** Everything the ingest app needs; AWS and the local runtime each wire their own adapters in. */
export type IngestDeps = {
  store: EventStore;
  queue: EventQueue;
  /**
   * Runs each request's record-and-enqueue writes as one unit that settles once they are durable: the local
   * runtime's group commit (local/group-commit.ts). Absent (AWS): the writes run as they come.
   */
  unitOfWork?: UnitOfWork;
  /** Read per request; the source caches (Powertools Parameters on AWS, memory locally). */
  credentials: () => Promise<IngestCredentials>;
  /** The webhook-ids of signed requests within the signature window: one id, one message. */
  webhookIds: WebhookIdStore;
  bamboohr?: BambooHrIngestOptions;
  /**
   * The policy ingest refuses events by (explicit roles, sources, domains, protected accounts), before
   * recording them. Absent: no checks (tests of other concerns); both runtimes always set it.
   */
  policy?: Policy;
  /**
   * Erases a person (POST /forget; privacy/forget-person.ts); `by` says who asked. Absent: the route
   * answers 501 (an app wired without the whole state store).
   */
  forget?: (target: ForgetTarget, by: string) => Promise<ForgetReport>;
  /**
   * TrueFoundry, read-only from ingest: previews (`?dryRun=true`) and reconciliation read the tenant's current
   * state through it; writes happen only in the worker. Absent: those routes answer 501.
   */
  trueFoundry?: { api: UsersApiProvider; config: ConvergenceConfig };
  /**
   * POST /reconcile's settings: the accounts it never touches (`RECONCILE_IGNORE`), and who holds an account
   * (the state store's people), so an orphan's offboard is its person's. Absent: nothing ignored, offboards
   * keyed by email.
   */
  reconcile?: ReconcileOptions;
  /** The offboarding guard's held events (GET /holds, POST /holds/release|reject). Absent: they answer 501. */
  holds?: HoldsOperations;
  /**
   * Cancelling scheduled and held events (DELETE /events/{id}; a BambooHR date removed or moved). Absent:
   * DELETE answers 501.
   */
  schedule?: ScheduleOperations;
  now?: () => number;
  log?: Log;
};

/** How POST /webhooks/bamboohr reads deliveries and looks up the employees they name without fields. */
export type BambooHrIngestOptions = {
  /** `acme` in acme.bamboohr.com: needed to look up employees that webhooks name without fields. */
  companyDomain?: string;
  labels?: Partial<BambooHrFieldLabels>;
  /** The IANA zone whose days hire and termination dates are (BAMBOOHR_TIME_ZONE). Absent: UTC. */
  timeZone?: string;
  /** Another API host (tests point it at a loopback fake). */
  apiBaseUrl?: string;
  /** Replaces the HTTP directory (tests). */
  directory?: BambooHrDirectory;
};

/** Who an `ingest` or `operator` route was authenticated as: decides the event source (`webhook` or `token`). */
export type Caller = Extract<AuthResult, { ok: true }>;

/** How POST /reconcile is wired (see IngestDeps.reconcile). */
export type ReconcileOptions = {
  /** Globs of emails (`*`, `?`; case-insensitive) reconciliation lists under `ignored` and never touches. */
  ignore: readonly string[];
  ownerOf?: (email: string) => Promise<string | undefined>;
};
