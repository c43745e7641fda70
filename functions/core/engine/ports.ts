import type { CanonicalEvent, EventType } from '../events/canonical-event';
import type {
  EmptyResponse,
  InviteUserRequest,
  InviteUserResponse,
  ListUsersParams,
  ListUsersResponse,
  PreRegisterUserRequest,
  UpdateRolesRequest,
  User,
  UserStatusRequest,
} from '../truefoundry/api-contract';
import type { CallOptions } from '../truefoundry/client';
import type { OffboardGuard } from './offboard-guard';

export const EVENT_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'superseded',
  'failed',
  'held',
  'scheduled',
  'cancelled',
] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];
export type TerminalStatus = 'succeeded' | 'superseded' | 'failed' | 'cancelled';
/** Statuses after which a delivery of the same event makes no TrueFoundry call at all. */
export const COMPLETED_STATUSES: ReadonlySet<EventStatus> = new Set(['succeeded', 'superseded', 'cancelled']);
export const isTerminal = (status: EventStatus): status is TerminalStatus =>
  status === 'succeeded' || status === 'superseded' || status === 'failed' || status === 'cancelled';
/** What an operator may cancel (DELETE /events/{id}): an event that has not run and is not in the queue. */
export const CANCELLABLE_STATUSES: ReadonlySet<EventStatus> = new Set(['scheduled', 'held']);

/** One TrueFoundry write (or a skip) as it happened, for `GET /events/{id}` and the operator CLI. */
export type StepRecord = {
  key: string;
  action: string;
  /** The account the step is for; absent on records written before people had several accounts. */
  email?: string;
  /**
   * `unknown`: a create timed out or answered 5xx, so it may have happened; `waiting`: a create is held back
   * until such an earlier create shows up in TrueFoundry or its bound passes.
   */
  outcome: 'done' | 'skipped' | 'exists' | 'failed' | 'unknown' | 'waiting';
  /** HTTP status of the last attempt; absent when no answer came. */
  httpStatus?: number;
  httpAttempts?: number;
  /** Which delivery of the event ran it (1 = first). */
  attempt: number;
  startedAt: string;
  durationMs: number;
  error?: string;
};

export type EventRecord = {
  eventId: string;
  employeeKey: string;
  type: EventType;
  occurredAt: string;
  status: EventStatus;
  /** Deliveries the worker started. */
  attempts: number;
  /**
   * Acceptance order, strictly increasing across all events: decides between a person's events with equal
   * timestamps. Absent (read as 0) on records made before sequences existed or made by a delivery that
   * beat its ingest record, so such an event never wins a tie.
   */
  sequence?: number;
  /** The queue message whose copy is in the dead-letter queue, once one was sent there. */
  deadLetteredBy?: string;
  /** When a `scheduled` event is due (its effective time); kept after it ran, for its history. */
  dueAt?: string;
  event: CanonicalEvent;
  /** Where it came from: `events`, `batch:<id>`, `bamboohr`, `redrive`. */
  source: string;
  /** False between recording and a confirmed enqueue: a resubmission then enqueues it again. */
  enqueued: boolean;
  steps: StepRecord[];
  error?: string;
  note?: string;
  receivedAt: string;
  updatedAt: string;
};

export type EventPage = { records: EventRecord[]; cursor?: string };

/** Each event's status and history. */
export interface EventStore {
  /** Reserves `count` consecutive acceptance sequence numbers and returns the first. */
  reserveSequences(count: number): Promise<number>;
  /**
   * Records a newly accepted event as `queued`, or as `scheduled` until `dueAt` when given; an id seen before
   * returns its existing record untouched.
   */
  accept(
    event: CanonicalEvent,
    meta: { source: string; at: string; sequence: number; dueAt?: string },
  ): Promise<{ created: boolean; record: EventRecord }>;
  /** `scheduled` events due at `now` (dueAt ≤ now), earliest first, at most `limit`. */
  dueEvents(query: { now: string; limit: number }): Promise<EventRecord[]>;
  /** The person's `scheduled` events, earliest due first (a BambooHR date that moved cancels them). */
  scheduledOf(personKey: string): Promise<EventRecord[]>;
  /**
   * A due `scheduled` event was sent to the queue: `queued` and enqueued. False when it is not `scheduled`
   * any more (cancelled meanwhile, or its delivery already began).
   */
  release(eventId: string, at: string): Promise<boolean>;
  /**
   * `scheduled` or `held` → `cancelled` (terminal, no call), with the note. Otherwise nothing changes and
   * the record is returned as it is (absent: no such event).
   */
  cancel(
    eventId: string,
    result: { at: string; note: string },
  ): Promise<{ cancelled: boolean; record: EventRecord | undefined }>;
  markEnqueued(eventId: string, at: string): Promise<void>;
  get(eventId: string): Promise<EventRecord | undefined>;
  list(query: { status?: EventStatus; limit: number; cursor?: string }): Promise<EventPage>;
  /**
   * A delivery begins: `running`, one more attempt. A completed event (succeeded, superseded) is returned
   * untouched; a `failed` one is reopened, since only a redrive delivers it again. Creates the record when
   * the event reached the queue some other way.
   */
  startAttempt(event: CanonicalEvent, at: string): Promise<EventRecord>;
  addStep(eventId: string, step: StepRecord): Promise<void>;
  finish(
    eventId: string,
    result: { status: TerminalStatus; at: string; error?: string; note?: string },
  ): Promise<void>;
  /**
   * The offboarding guard holds the event for an operator (offboard-guard.ts): `held`, with the reason, and
   * no message in the queue until it is released.
   */
  hold(eventId: string, result: { at: string; reason: string }): Promise<void>;
  /** A transient failure: back to `queued` with the reason, for the next delivery. */
  requeue(eventId: string, result: { at: string; error: string }): Promise<void>;
  /**
   * Notes that the queue message `messageId` was copied to the dead-letter queue, so that a redelivery of
   * that same message (its worker stopped before the message was deleted) does not dead-letter it again.
   */
  markDeadLettered(eventId: string, messageId: string): Promise<void>;
}

export type ClaimResult =
  | { state: 'claimed' }
  | { state: 'done' }
  | { state: 'held'; untilMs: number }
  /** An earlier claim's outcome is unknown (timed out, 5xx, its worker died) and the bound has not passed. */
  | { state: 'unknown'; sinceMs: number; untilMs: number };

export type Lease = {
  owner: string;
  nowMs: number;
  leaseMs: number;
  /**
   * How long a claim whose outcome is unknown (marked unknown, or whose worker's lease lapsed) blocks a new
   * claim, counted from when it was claimed. 0 (the default) takes it over at once: right for a step that is
   * safe to repeat, wrong for a create, which would send a second invitation.
   */
  unknownBoundMs?: number;
};

/**
 * Claims each external effect before it happens and marks it done after, so a redelivered event skips
 * what it already did. Written by hand rather than with Powertools Idempotency: that guards a whole
 * function call and deletes its record when the call throws, whereas an invite that happened must stay
 * recorded when a later step of the same event fails, and the ledger must run on SQLite and in memory too.
 */
export interface StepLedger {
  claim(eventId: string, stepKey: string, lease: Lease): Promise<ClaimResult>;
  complete(eventId: string, stepKey: string, owner: string, at: string): Promise<void>;
  /** Gives a claim back after a failed attempt that surely had no effect, so the next delivery need not wait. */
  release(eventId: string, stepKey: string, owner: string): Promise<void>;
  /**
   * Keeps a claim whose effect may or may not have happened (a timeout, a 5xx) but ends its lease now: the
   * next claim waits out `unknownBoundMs` from the original claim.
   */
  markUnknown(eventId: string, stepKey: string, owner: string, nowMs: number): Promise<void>;
}

/** The newest event applied for a person: later events must be newer in (time, sequence). */
export type OrderMark = { at: string; sequence: number; eventId: string };

export type PersonStatus = 'active' | 'offboarded';

/** What the pipeline knows of one person (an HR employee id, or an email when the source gave none). */
export type PersonState = {
  personKey: string;
  mark?: OrderMark;
  /** From the last applied event: offboarded after an offboard, active after anything else. */
  status?: PersonStatus;
  /** Every email the person has been provisioned under, oldest first; the last is the current account. */
  accounts: string[];
};

export type LinkResult = { linked: true } | { linked: false; owner: string | undefined };

export type RecordApplied = { mark: OrderMark; status: PersonStatus; current: string };

/**
 * People and the TrueFoundry accounts (emails) they hold. Each email has at most one owner; an offboard
 * deactivates every account its person owns, whatever email the offboard carries.
 */
export interface PersonDirectory {
  get(personKey: string): Promise<PersonState | undefined>;
  /** The person an email is linked to. */
  ownerOf(email: string): Promise<string | undefined>;
  /**
   * Links `email` to `personKey` and adds it to the person's accounts, provided its owner is still
   * `expectedOwner` (undefined: unowned) or already `personKey`. Done before any call that creates or
   * re-activates the account, so two people can never both provision one email.
   */
  link(personKey: string, email: string, expectedOwner: string | undefined): Promise<LinkResult>;
  /** Marks written per email by versions before people existed: they still order old events. */
  legacyMark(email: string): Promise<OrderMark | undefined>;
}

/** The part of the TrueFoundry users API convergence uses; TrueFoundryUsersClient implements it. */
export interface UsersApi {
  findByEmail(email: string, options?: CallOptions): Promise<User | undefined>;
  /** One page of users (reconciliation reads every page, deactivated users included). */
  list(params?: ListUsersParams, options?: CallOptions): Promise<ListUsersResponse>;
  preRegister(body: PreRegisterUserRequest, options?: CallOptions): Promise<EmptyResponse>;
  invite(body: InviteUserRequest, options?: CallOptions): Promise<InviteUserResponse>;
  updateRoles(body: UpdateRolesRequest, options?: CallOptions): Promise<EmptyResponse>;
  activate(body: UserStatusRequest, options?: CallOptions): Promise<EmptyResponse>;
  deactivate(body: UserStatusRequest, options?: CallOptions): Promise<EmptyResponse>;
  delete(id: string, params?: { tenantName?: string }, options?: CallOptions): Promise<EmptyResponse>;
}

/** A TrueFoundry client built from the current credentials; `refresh` re-reads them (after a 401). */
export interface UsersApiProvider {
  get(): Promise<UsersApi>;
  refresh(): Promise<UsersApi>;
}

/**
 * How many events wait to be converged by this process now, the one asking included: the local queue's
 * messages (local/worker-pool.ts), or the records of the SQS batch the worker invocation is running
 * (functions/lambda/records-in-progress.ts). When many wait, the engine reads TrueFoundry's directory in pages
 * instead of one user per event (directory-pages.ts).
 */
export interface Backlog {
  waiting(): number;
}

/** Structured log lines; Powertools Logger fits it as it is. */
export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Whom `forget` erases, resolved from the directory (`resolveForgetSubject`): personal data, held for the
 * call only, never stored or logged.
 */
export type ForgetSubject = {
  /** The person named, and the email-only persons of their accounts (the same human, per identity.ts). */
  personKeys: string[];
  /** Their accounts: an owner link to one of personKeys and a legacy mark of each go too. */
  emails: string[];
  /** Set when named by email: events carrying this email go too, whichever person they were for. */
  email?: string;
};

/** What one forget erased from the state store. */
export type ForgetCounts = { events: number; steps: number; people: number; emails: number };

/** The durable audit line of one forget: a digest of whom, counts, when and by whom; no personal data. */
export type ForgetAudit = ForgetCounts & {
  /** A short SHA-256 digest of the target as named (`employee:<id>` or `email:<email>`). */
  person: string;
  at: string;
  /** How the operator was authenticated (`token`, `gateway`), and who they said they are. */
  by: string;
  /** Messages of the person taken off the local queue before they ran (0 on AWS). */
  queued: number;
  /** Dead letters of the person deleted with them (local runtime; on AWS the CLI purges SQS itself). */
  deadLetters: number;
};

export type ForgetOptions = {
  /**
   * Erase nothing when one of the events is queued or running: its delivery would write the person back.
   * The local runtime takes such messages off its queue first and says false; on AWS they are in SQS.
   */
  refuseWhileBusy: boolean;
  audit: Omit<ForgetAudit, keyof ForgetCounts>;
};

export type ForgetOutcome = { forgotten: ForgetAudit } | { busy: string[] };

export type StateStore = {
  events: EventStore;
  ledger: StepLedger;
  people: PersonDirectory;
  /**
   * Records an event as `succeeded` and moves its person's mark (only forward: a strictly newer mark
   * wins), status and current account, as one transition, so a failed event never moves the mark.
   */
  recordSuccess(
    eventId: string,
    result: { at: string; note?: string },
    person: { personKey: string } & RecordApplied,
  ): Promise<{ applied: true } | { applied: false; newest: OrderMark }>;
  /**
   * Erases a person: every event of one of `personKeys` (or carrying `email`) with its ledger steps, the
   * person records, the email links they own and the legacy marks of their emails; then writes the audit
   * line. Safe to repeat: what is gone stays gone.
   */
  forget(subject: ForgetSubject, options: ForgetOptions): Promise<ForgetOutcome>;
  /** Every forget's audit line, oldest first. */
  forgetAudits(): Promise<ForgetAudit[]>;
  /** The offboarding guard's state (offboard-guard.ts). Absent: no guard (stores built for other tests). */
  guard?: OffboardGuard;
};
