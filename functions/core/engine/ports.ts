import type { CanonicalEvent, EventType } from '../events/canonical-event';
import type { CallOptions } from '../truefoundry/client';
import type {
  EmptyResponse,
  InviteUserRequest,
  InviteUserResponse,
  PreRegisterUserRequest,
  UpdateRolesRequest,
  User,
  UserStatusRequest,
} from '../truefoundry/types';

export const EVENT_STATUSES = ['queued', 'running', 'succeeded', 'superseded', 'failed'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];
export type TerminalStatus = 'succeeded' | 'superseded' | 'failed';
/** Statuses after which a delivery of the same event makes no TrueFoundry call at all. */
export const COMPLETED_STATUSES: ReadonlySet<EventStatus> = new Set(['succeeded', 'superseded']);
export const isTerminal = (status: EventStatus): status is TerminalStatus =>
  status === 'succeeded' || status === 'superseded' || status === 'failed';

/** One TrueFoundry write (or a skip) as it happened, for `GET /events/{id}` and the operator CLI. */
export type StepRecord = {
  key: string;
  action: string;
  outcome: 'done' | 'skipped' | 'exists' | 'failed';
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
  /** Records a newly accepted event as `queued`; an id seen before returns its existing record untouched. */
  accept(
    event: CanonicalEvent,
    meta: { source: string; at: string },
  ): Promise<{ created: boolean; record: EventRecord }>;
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
  /** A transient failure: back to `queued` with the reason, for the next delivery. */
  requeue(eventId: string, result: { at: string; error: string }): Promise<void>;
}

export type ClaimResult = { state: 'claimed' } | { state: 'done' } | { state: 'held'; untilMs: number };

/**
 * Claims each external effect before it happens and marks it done after, so a redelivered event skips
 * what it already did. Written by hand rather than with Powertools Idempotency: that guards a whole
 * function call and deletes its record when the call throws, whereas an invite that happened must stay
 * recorded when a later step of the same event fails, and the ledger must run on SQLite and in memory too.
 */
export interface StepLedger {
  claim(
    eventId: string,
    stepKey: string,
    lease: { owner: string; nowMs: number; leaseMs: number },
  ): Promise<ClaimResult>;
  complete(eventId: string, stepKey: string, owner: string, at: string): Promise<void>;
  /** Gives a claim back after a failed attempt so the next delivery need not wait out the lease. */
  release(eventId: string, stepKey: string, owner: string): Promise<void>;
}

export type HighWaterMark = { occurredAt: string; eventId: string };

/** Per-employee high-water mark: an event older than the last one applied must not undo it. */
export interface EmployeeState {
  /** Moves the mark to this event unless a strictly newer event was applied already. */
  advance(
    employeeKey: string,
    mark: HighWaterMark,
  ): Promise<{ applied: true } | { applied: false; newest: HighWaterMark }>;
  get(employeeKey: string): Promise<HighWaterMark | undefined>;
}

/** The part of the TrueFoundry users API convergence uses; TrueFoundryUsersClient implements it. */
export interface UsersApi {
  findByEmail(email: string, options?: CallOptions): Promise<User | undefined>;
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

/** Structured log lines; Powertools Logger fits it as it is. */
export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

export type StateStore = { events: EventStore; ledger: StepLedger; employees: EmployeeState };
