import { randomUUID } from 'node:crypto';
import type { CanonicalEvent } from '../events/canonical-event';
import type { User } from '../truefoundry/api-contract';
import type { AttemptRecord } from '../truefoundry/client';
import {
  TrueFoundryAbortedError,
  TrueFoundryConflictError,
  TrueFoundryError,
  TrueFoundryNotFoundError,
  TrueFoundryRateLimitError,
  TrueFoundryUnauthorizedError,
} from '../truefoundry/errors';
import type { ConvergenceDeps } from './convergence-deps';
import { type DesiredState, observe, planConvergence, type Step } from './convergence-plan';
import { type Log, type StepRecord, silentLog, type UsersApi } from './ports';
import { callForStep } from './step-calls';

/**
 * When the current delivery must stop: a Lambda invocation's end less a margin for recording the outcome.
 * `signal` aborts in-flight TrueFoundry calls at `atMs`; `stepMs` is the longest one step may take (its
 * call's timeout), so that no step starts that cannot finish.
 */
export type Deadline = { atMs: number; signal: AbortSignal; stepMs: number };

/** A deadline `remainingMs` from now, kept `marginMs` short of it; the timer does not hold the process open. */
export function deadlineIn(remainingMs: number, options: { marginMs: number; stepMs: number }): Deadline {
  const atMs = Date.now() + Math.max(0, remainingMs - options.marginMs);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error('the invocation is about to time out')),
    Math.max(0, atMs - Date.now()),
  );
  timer.unref();
  return { atMs, signal: controller.signal, stepMs: options.stepMs };
}

/** Whether a step started now could still finish before the deadline. */
export const hasTimeForStep = (deadline: Deadline | undefined, nowMs: number): boolean =>
  deadline === undefined || nowMs + deadline.stepMs <= deadline.atMs;

/** A transient condition the executor itself detects (not an HTTP error), e.g. a new user not yet visible. */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/**
 * A delivery that only waited for an earlier create's unknown outcome: it made no call for that account, so it
 * spends none of the retry budget (waits are bounded by unknownCreateBoundMs on their own). Counting them let
 * the waits plus the usual "not visible yet" retry of a new user use up the budget and fail the event.
 */
export class WaitingForUnknownCreate extends RetryLater {}

/** The earlier deliveries of an event that only waited (they recorded a `waiting` step). */
export function waitingDeliveries(steps: readonly StepRecord[]): number {
  return new Set(steps.filter((s) => s.outcome === 'waiting').map((s) => s.attempt)).size;
}

/** One account an event converges: the event's own email, or another account of the same person. */
export type Target = { email: string; desired: DesiredState; primary: boolean };

/** The plan rounds one delivery may run before it hands the event back: a state that keeps changing. */
const MAX_ROUNDS = 3;
/** How long a create whose outcome is unknown holds back another create, unless configured. */
export const DEFAULT_UNKNOWN_CREATE_BOUND_MS = 120_000;
/** The longest wait between looks for an account whose create had an unknown outcome. */
// 40 s: a few looks within the default 2-minute bound; the deliveries that only wait spend no retry budget.
const MAX_UNKNOWN_WAIT_MS = 40_000;

/**
 * One delivery of one event: per account, reads the user, plans the fewest writes (convergence-plan.ts),
 * claims each in the step ledger before making its call (step-calls.ts), and records each step on the event.
 */
export class EventRun {
  private readonly owner = randomUUID();
  /** Accounts created for this event (now or in an earlier delivery): a 404 afterwards means "not visible yet". */
  private readonly created = new Set<string>();
  private credentialsRefreshed = false;
  private api: UsersApi | undefined;
  /**
   * Users read by wouldDeactivate, served once to the first plan round of their target: the guard's look
   * costs no second read, and nothing was written in between.
   */
  private readonly prefetched = new Map<string, User | undefined>();

  constructor(
    private readonly event: CanonicalEvent,
    private readonly attempt: number,
    private readonly deps: ConvergenceDeps,
    private readonly now: () => number,
    private readonly deadline?: Deadline,
  ) {}

  /** Every call of this delivery stops at its deadline; retries that would wait past it are not waited for. */
  private get callOptions(): { signal?: AbortSignal; deadlineAtMs?: number } {
    return this.deadline ? { signal: this.deadline.signal, deadlineAtMs: this.deadline.atMs } : {};
  }

  /** Converges each target in order; the note says why nothing was written, when nothing was. */
  async converge(targets: Target[]): Promise<string | undefined> {
    const notes: string[] = [];
    for (const target of targets) {
      const note = await this.convergeTarget(target);
      if (note) notes.push(targets.length > 1 ? `${target.email}: ${note}` : note);
    }
    return notes.length > 0 ? notes.join('; ') : undefined;
  }

  /**
   * Whether converging the targets would deactivate an active account: read only, for the offboarding guard
   * (hold-check.ts), which counts only offboards that take access away.
   */
  async wouldDeactivate(targets: Target[]): Promise<boolean> {
    for (const target of targets) {
      if (target.desired.kind !== 'offboarded') continue;
      const user = await this.call((api) => api.findByEmail(target.email, this.callOptions));
      this.prefetched.set(target.email, user);
      const plan = planConvergence(target.desired, observe(user), this.deps.config.provisionMode);
      if (plan.steps.some((step) => step.key === 'deactivate')) return true;
    }
    return false;
  }

  private async convergeTarget(target: Target): Promise<string | undefined> {
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      const user =
        round === 1 && this.prefetched.has(target.email)
          ? this.prefetched.get(target.email)
          : await this.call((api) => api.findByEmail(target.email, this.callOptions));
      this.prefetched.delete(target.email);
      const plan = planConvergence(target.desired, observe(user), this.deps.config.provisionMode);
      if (plan.steps.length === 0) return plan.note;
      if (await this.runSteps(target, plan.steps)) return undefined;
    }
    throw new RetryLater('TrueFoundry changed under the event in every round; trying again later', 1_000);
  }

  /** The ledger key: the event's own account keeps the plain step key; another account's names its email. */
  private keyOf(target: Target, step: Step): string {
    return target.primary ? step.key : `${step.key}:${target.email}`;
  }

  /** Runs the steps in order; false when TrueFoundry turned out different from what was read (re-plan). */
  private async runSteps(target: Target, steps: Step[]): Promise<boolean> {
    const { ledger } = this.deps.store;
    for (const step of steps) {
      const key = this.keyOf(target, step);
      const isCreate = step.key === 'create';
      if (!hasTimeForStep(this.deadline, Date.now())) {
        // A step cut off half-way is an outcome unknown; one not started is simply the next delivery's.
        throw new RetryLater(`no time left in this invocation for step ${key}; the next delivery goes on`, 0);
      }
      const claim = await ledger.claim(this.event.id, key, {
        owner: this.owner,
        nowMs: this.now(),
        leaseMs: this.deps.config.leaseMs,
        unknownBoundMs: isCreate
          ? (this.deps.config.unknownCreateBoundMs ?? DEFAULT_UNKNOWN_CREATE_BOUND_MS)
          : 0,
      });
      if (claim.state === 'done') {
        if (isCreate) this.created.add(target.email);
        continue;
      }
      if (claim.state === 'held') {
        throw new RetryLater(
          `step ${key} is being run by another worker`,
          Math.max(100, claim.untilMs - this.now()),
        );
      }
      if (claim.state === 'unknown') await this.waitForUnknownCreate(target, step, claim);
      const verdict = await this.runClaimedStep(target, step, key);
      if (verdict === 'replan') return false;
    }
    return true;
  }

  /**
   * An earlier create of this account may have happened (it timed out, answered 5xx, or its worker died),
   * and the account is not listed yet: creating again could send a second invitation. Wait for it to show
   * up, until the bound passes; only then may a create run again.
   */
  private async waitForUnknownCreate(
    target: Target,
    step: Step,
    claim: { sinceMs: number; untilMs: number },
  ): Promise<never> {
    const at = new Date(this.now()).toISOString();
    const until = new Date(claim.untilMs).toISOString();
    await this.deps.store.events.addStep(this.event.id, {
      key: this.keyOf(target, step),
      action: step.action,
      email: target.email,
      outcome: 'waiting',
      attempt: this.attempt,
      startedAt: at,
      durationMs: 0,
      error: `an earlier ${step.action} may have taken effect; waiting for ${target.email} to appear in TrueFoundry before creating again (until ${until})`,
    });
    const remaining = claim.untilMs - this.now();
    throw new WaitingForUnknownCreate(
      `${step.action} of ${target.email}: outcome of an earlier attempt unknown; waiting for the account to appear (until ${until})`,
      Math.max(this.deps.config.notVisibleRetryMs, Math.min(MAX_UNKNOWN_WAIT_MS, remaining)),
    );
  }

  private async runClaimedStep(target: Target, step: Step, key: string): Promise<'done' | 'replan'> {
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
      key,
      action: step.action,
      email: target.email,
      outcome,
      attempt: this.attempt,
      startedAt,
      durationMs: Math.round(this.now() - started),
      httpAttempts,
      ...(last?.status === undefined ? {} : { httpStatus: last.status }),
      ...(error ? { error } : {}),
    });
    try {
      await this.call((api) =>
        callForStep(api, target.email, step, this.deps.config, { ...this.callOptions, onAttempt }),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (step.key === 'create' && error instanceof TrueFoundryConflictError) {
        // 409: the user exists after all (not visible yet, or created meanwhile): converge from there.
        await ledger.complete(this.event.id, key, this.owner, startedAt);
        await events.addStep(this.event.id, record('exists'));
        this.created.add(target.email);
        return 'replan';
      }
      if (step.key === 'create' && mayHaveTakenEffect(error)) {
        // Not released: the next create of this account waits for it to appear, or for the bound.
        await ledger.markUnknown(this.event.id, key, this.owner, this.now());
        await events.addStep(this.event.id, record('unknown', message));
        throw error;
      }
      await ledger.release(this.event.id, key, this.owner);
      await events.addStep(this.event.id, record('failed', message));
      if (error instanceof TrueFoundryNotFoundError) {
        if (this.created.has(target.email)) {
          throw new RetryLater(
            `${message}: the user created for this event is not visible yet`,
            this.deps.config.notVisibleRetryMs,
          );
        }
        return 'replan';
      }
      throw error;
    }
    await ledger.complete(this.event.id, key, this.owner, new Date(this.now()).toISOString());
    await events.addStep(this.event.id, record('done'));
    if (step.key === 'create') this.created.add(target.email);
    return 'done';
  }

  /** Calls TrueFoundry; a 401 re-reads the credentials once per delivery, then is permanent. */
  private async call<T>(fn: (api: UsersApi) => Promise<T>): Promise<T> {
    this.api ??= await this.deps.api.get();
    try {
      return await fn(this.api);
    } catch (error) {
      if (!(error instanceof TrueFoundryUnauthorizedError) || this.credentialsRefreshed) throw error;
      this.credentialsRefreshed = true;
      this.log.warn('TrueFoundry answered 401: re-reading the credentials once', { eventId: this.event.id });
      this.api = await this.deps.api.refresh();
      return fn(this.api);
    }
  }

  private get log(): Log {
    return this.deps.log ?? silentLog;
  }
}

/** A 5xx, a timeout, a dropped connection or an abort may come after the server acted; a 429 is a refusal. */
function mayHaveTakenEffect(error: unknown): boolean {
  if (error instanceof TrueFoundryAbortedError) return true;
  return (
    error instanceof TrueFoundryError && error.isTransient() && !(error instanceof TrueFoundryRateLimitError)
  );
}
