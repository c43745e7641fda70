import { randomUUID } from 'node:crypto';
import type { CanonicalEvent } from '../events/canonical-event';
import { employeeKeyOf } from '../events/employee-key';
import type { RoleMapping } from '../roles/role-mapping';
import type { AttemptRecord } from '../truefoundry/client';
import {
  InvalidUserRequestError,
  TrueFoundryConflictError,
  TrueFoundryError,
  TrueFoundryForbiddenError,
  TrueFoundryNotFoundError,
  TrueFoundryUnauthorizedError,
} from '../truefoundry/errors';
import { observe, type ProvisionMode, planConvergence, type Step } from './convergence-plan';
import { type DesiredState, desiredStateOf } from './desired-state';
import {
  type Log,
  type StateStore,
  type StepRecord,
  silentLog,
  type UsersApi,
  type UsersApiProvider,
} from './ports';
import { retryDelayForAttempt } from './retry-delay';

export type ConvergenceConfig = {
  provisionMode: ProvisionMode;
  /** Where an invitation link lands. Required for `invite`; with `register` it also sends the invite email. */
  acceptInviteUrl?: string;
  deleteAfterOffboard: boolean;
  tenantName?: string;
  roleMapping: RoleMapping;
  /** How long a claimed step is protected from a second worker. Longer than one step can take. */
  leaseMs: number;
  /** Wait before retrying when a user created moments ago is not visible yet. */
  notVisibleRetryMs: number;
};

export type ConvergenceDeps = {
  store: StateStore;
  api: UsersApiProvider;
  config: ConvergenceConfig;
  now?: () => number;
  log?: Log;
};

export type EventOutcome =
  | { status: 'succeeded'; note?: string; replayed?: boolean }
  | { status: 'superseded'; note: string; replayed?: boolean }
  | { status: 'failed'; reason: string }
  | { status: 'retry'; reason: string; retryAfterMs: number };

/** A transient condition the executor itself detects (not an HTTP error), e.g. a new user not yet visible. */
class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** The plan rounds one delivery may run before it hands the event back: a state that keeps changing. */
const MAX_ROUNDS = 3;

/**
 * Converges TrueFoundry to what one event asks, exactly once in effect: reads the user once per round,
 * plans the fewest writes, claims each in the step ledger before making it, and records the outcome.
 */
export async function convergeEvent(event: CanonicalEvent, deps: ConvergenceDeps): Promise<EventOutcome> {
  const now = deps.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const { events, employees } = deps.store;

  const record = await events.startAttempt(event, iso());
  if (record.status === 'succeeded' || record.status === 'superseded') {
    return record.status === 'succeeded'
      ? { status: 'succeeded', replayed: true, ...(record.note ? { note: record.note } : {}) }
      : { status: 'superseded', replayed: true, note: record.note ?? 'superseded' };
  }

  const gate = await employees.advance(employeeKeyOf(event.employee.email), {
    occurredAt: event.occurredAt,
    eventId: event.id,
  });
  if (!gate.applied) {
    const note = `older than ${gate.newest.eventId} (${gate.newest.occurredAt}), which was already applied`;
    await events.finish(event.id, { status: 'superseded', at: iso(), note });
    return { status: 'superseded', note };
  }

  const run = new EventRun(event, record.attempts, deps, now);
  try {
    const note = await run.converge();
    await events.finish(event.id, { status: 'succeeded', at: iso(), ...(note ? { note } : {}) });
    return { status: 'succeeded', ...(note ? { note } : {}) };
  } catch (error) {
    const outcome = classify(error, record.attempts);
    if (outcome.status === 'failed') {
      await events.finish(event.id, { status: 'failed', at: iso(), error: outcome.reason });
    } else {
      await events.requeue(event.id, { at: iso(), error: outcome.reason });
    }
    (deps.log ?? silentLog)[outcome.status === 'failed' ? 'error' : 'warn'](`event ${outcome.status}`, {
      eventId: event.id,
      reason: outcome.reason,
    });
    return outcome;
  }
}

/** Transient (429, 5xx, network, timeout, storage hiccups) → retry; the rest is permanent. */
function classify(error: unknown, attempt: number): Extract<EventOutcome, { status: 'failed' | 'retry' }> {
  if (error instanceof RetryLater) {
    return { status: 'retry', reason: error.message, retryAfterMs: error.retryAfterMs };
  }
  if (error instanceof TrueFoundryForbiddenError && error.path.endsWith('/invite')) {
    return {
      status: 'failed',
      reason: `${error.message}. Invite works only where TrueFoundry manages the tenant's login; use the register provision mode`,
    };
  }
  if (error instanceof InvalidUserRequestError) return { status: 'failed', reason: error.message };
  if (error instanceof TrueFoundryError) {
    return error.isTransient()
      ? {
          status: 'retry',
          reason: error.message,
          retryAfterMs: retryDelayForAttempt(attempt, error.retryAfterMs),
        }
      : { status: 'failed', reason: error.message };
  }
  // Anything else (a storage throttle, a bug) is not known to be permanent: let the queue's budget decide.
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { status: 'retry', reason, retryAfterMs: retryDelayForAttempt(attempt) };
}

/** One delivery of one event. */
class EventRun {
  private readonly owner = randomUUID();
  private readonly desired: DesiredState;
  /** A create ran for this event (now or in an earlier delivery): a 404 afterwards means "not visible yet". */
  private created = false;
  private credentialsRefreshed = false;
  private api: UsersApi | undefined;

  constructor(
    private readonly event: CanonicalEvent,
    private readonly attempt: number,
    private readonly deps: ConvergenceDeps,
    private readonly now: () => number,
  ) {
    this.desired = desiredStateOf(event, deps.config.roleMapping, {
      deleteAfterOffboard: deps.config.deleteAfterOffboard,
    });
  }

  async converge(): Promise<string | undefined> {
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      const user = await this.call((api) => api.findByEmail(this.desired.email));
      const plan = planConvergence(this.desired, observe(user), this.deps.config.provisionMode);
      if (plan.steps.length === 0) return plan.note;
      if (await this.runSteps(plan.steps)) return undefined;
    }
    throw new RetryLater('TrueFoundry changed under the event in every round; trying again later', 1_000);
  }

  /** Runs the steps in order; false when TrueFoundry turned out different from what was read (re-plan). */
  private async runSteps(steps: Step[]): Promise<boolean> {
    const { ledger } = this.deps.store;
    const leaseMs = this.deps.config.leaseMs;
    for (const step of steps) {
      const claim = await ledger.claim(this.event.id, step.key, {
        owner: this.owner,
        nowMs: this.now(),
        leaseMs,
      });
      if (claim.state === 'done') {
        if (step.key === 'create') this.created = true;
        continue;
      }
      if (claim.state === 'held') {
        throw new RetryLater(
          `step ${step.key} is being run by another worker`,
          Math.max(100, claim.untilMs - this.now()),
        );
      }
      const verdict = await this.runClaimedStep(step);
      if (verdict === 'replan') return false;
    }
    return true;
  }

  private async runClaimedStep(step: Step): Promise<'done' | 'replan'> {
    const { ledger, events } = this.deps.store;
    const startedAt = new Date(this.now()).toISOString();
    const started = this.now();
    let last: AttemptRecord | undefined;
    let httpAttempts = 0;
    const onAttempt = (a: AttemptRecord) => {
      last = a;
      httpAttempts++;
    };
    const record = (outcome: StepRecord['outcome'], error?: string): StepRecord => ({
      key: step.key,
      action: step.action,
      outcome,
      attempt: this.attempt,
      startedAt,
      durationMs: Math.round(this.now() - started),
      httpAttempts,
      ...(last?.status === undefined ? {} : { httpStatus: last.status }),
      ...(error ? { error } : {}),
    });
    try {
      await this.call((api) => this.perform(api, step, onAttempt));
    } catch (error) {
      if (step.key === 'create' && error instanceof TrueFoundryConflictError) {
        // 409: the user exists after all (not visible yet, or created meanwhile): converge from there.
        await ledger.complete(this.event.id, step.key, this.owner, startedAt);
        await events.addStep(this.event.id, record('exists'));
        this.created = true;
        return 'replan';
      }
      await ledger.release(this.event.id, step.key, this.owner);
      await events.addStep(
        this.event.id,
        record('failed', error instanceof Error ? error.message : String(error)),
      );
      if (error instanceof TrueFoundryNotFoundError) {
        if (this.created) {
          throw new RetryLater(
            `${error.message}: the user created for this event is not visible yet`,
            this.deps.config.notVisibleRetryMs,
          );
        }
        return 'replan';
      }
      throw error;
    }
    await ledger.complete(this.event.id, step.key, this.owner, new Date(this.now()).toISOString());
    await events.addStep(this.event.id, record('done'));
    if (step.key === 'create') this.created = true;
    return 'done';
  }

  private perform(api: UsersApi, step: Step, onAttempt: (a: AttemptRecord) => void): Promise<unknown> {
    const email = this.desired.email;
    const { acceptInviteUrl, tenantName } = this.deps.config;
    const options = { onAttempt };
    const tenant = tenantName ? { tenantName } : {};
    switch (step.action) {
      case 'register':
        return api.preRegister(
          {
            email,
            skipIfUserExists: true,
            ...(acceptInviteUrl ? { sendInviteEmail: true, acceptInviteClientURL: acceptInviteUrl } : {}),
          },
          options,
        );
      case 'invite':
        if (!acceptInviteUrl)
          throw new InvalidUserRequestError('invite', 'acceptInviteUrl', 'must be configured to invite');
        return api.invite({ email, acceptInviteClientUrl: acceptInviteUrl }, options);
      case 'activate':
        return api.activate({ email, ...tenant }, options);
      case 'deactivate':
        return api.deactivate({ email, ...tenant }, options);
      case 'set-roles':
        return api.updateRoles(
          {
            email,
            roles: step.roles,
            ...(step.resourceType === 'tenant' ? {} : { resourceType: step.resourceType }),
          },
          options,
        );
      case 'delete':
        return api.delete(step.userId, tenant, options);
    }
  }

  /** Calls TrueFoundry; a 401 re-reads the credentials once per delivery, then is permanent. */
  private async call<T>(fn: (api: UsersApi) => Promise<T>): Promise<T> {
    this.api ??= await this.deps.api.get();
    try {
      return await fn(this.api);
    } catch (error) {
      if (!(error instanceof TrueFoundryUnauthorizedError) || this.credentialsRefreshed) throw error;
      this.credentialsRefreshed = true;
      (this.deps.log ?? silentLog).warn('TrueFoundry answered 401: re-reading the credentials once', {
        eventId: this.event.id,
      });
      this.api = await this.deps.api.refresh();
      return fn(this.api);
    }
  }
}
