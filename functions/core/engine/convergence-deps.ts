import type { Policy } from '../policy/policy';
import type { RoleMapping } from '../roles/role-mapping';
import type { ProvisionMode } from './convergence-plan';
import type { DirectoryPages } from './directory-pages';
import type { GuardLimit } from './offboard-guard';
import type { Backlog, Log, StateStore, UsersApiProvider } from './ports';

/*
 * What the convergence engine is wired with, and what it answers: types only, in a module of their own so
 * that the engine's parts (event-run.ts, hold-check.ts) and converge-event.ts, which uses them, do not
 * import each other in a cycle.
 */

export type ConvergenceConfig = {
  provisionMode: ProvisionMode;
  /** Where an invitation link lands. Required for `invite`; with `register` it also sends the invite email. */
  acceptInviteUrl?: string;
  deleteAfterOffboard: boolean;
  tenantName?: string;
  roleMapping: RoleMapping;
  /**
   * The policy: the role ceiling (for derived roles too) and the protected accounts, checked before any write
   * of an event. Absent: no checks (tests of other concerns); both runtimes always set it.
   */
  policy?: Policy;
  /** How long a claimed step is protected from a second worker. Longer than one step can take. */
  leaseMs: number;
  /** Wait before retrying when a user created moments ago is not visible yet. */
  notVisibleRetryMs: number;
  /**
   * How long a create whose outcome is unknown (timeout, 5xx, a worker that died) holds back another create
   * of the same account while the worker waits for it to show up in TrueFoundry's list. Default 2 minutes.
   */
  unknownCreateBoundMs?: number;
  /**
   * The offboarding guard's limit (offboard-guard.ts): at most `max` deactivating offboards per window, the
   * rest held for an operator. Absent or `max` 0: no limit (later events still wait behind held ones).
   */
  offboardGuard?: GuardLimit;
};

export type ConvergenceDeps = {
  store: StateStore;
  api: UsersApiProvider;
  config: ConvergenceConfig;
  now?: () => number;
  log?: Log;
  /**
   * This process's snapshot of TrueFoundry's directory, read in pages when many events wait (directory-pages.ts).
   * Absent, or without a backlog: one exact-email read per account, as for a single event.
   */
  directory?: DirectoryPages;
  /** How many events wait in this process: the runtime's queue, or its batch of SQS records. */
  backlog?: Backlog;
};

export type EventOutcome =
  | { status: 'succeeded'; note?: string; replayed?: boolean }
  | { status: 'superseded'; note: string; replayed?: boolean }
  /** Cancelled before it ran (DELETE /events/{id}): a delivery that comes anyway makes no call. */
  | { status: 'cancelled'; note: string }
  | { status: 'failed'; reason: string }
  /** Waiting for an operator (offboarding guard): recorded in the store; the message is done. */
  | { status: 'held'; reason: string }
  /** `attempts`: the deliveries that ran the event so far, this one included: the retry budget counts these. */
  | { status: 'retry'; reason: string; retryAfterMs: number; attempts: number };
