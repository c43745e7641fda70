import { type CanonicalEvent, effectiveTimeOf } from '../events/canonical-event';
import { mapWithConcurrency } from '../ingest/accept-events';
import type { User } from '../truefoundry/api-contract';
import type { CallOptions } from '../truefoundry/client';
import { TrueFoundryUnauthorizedError } from '../truefoundry/errors';
import type { ConvergenceConfig } from './converge-event';
import { desiredStateOf, observe, planConvergence, type Step } from './convergence-plan';
import { policyRefusal } from './policy-guard';
import type { UsersApi, UsersApiProvider } from './ports';

/*
 * A preview (`?dryRun=true`): what the worker would write to TrueFoundry for each event if it ran now, planned
 * with the worker's own planner (convergence-plan.ts) against TrueFoundry's current state, read the way the
 * worker reads it (the exact-email list read). Nothing is written, recorded or enqueued.
 *
 * Limits, said in docs/events.md ("Preview") too:
 * - each event is planned on its own against TrueFoundry as it is now, not after the events before it in the
 *   same request (a hire and a role change of one person in one file both plan against today's account);
 * - only the event's own email is planned: the person directory (the previous accounts an email change or an
 *   offboard also deactivates, an email held by someone else, an offboarded person's role change) is not read,
 *   since the ingest λ's role may not read people (lib/hr-provisioning.ts, INGEST_LEADING_KEYS);
 * - the order against events applied before (a stale event is superseded by the worker) is not judged.
 */

/** The one read a preview makes. */
type UsersReader = { findByEmail(email: string, options?: CallOptions): Promise<User | undefined> };

/** The summary's counters: steps by kind (`register`/`invite` count as `create`), and events with none. */
export const SUMMARY_KEYS = ['create', 'activate', 'set-roles', 'deactivate', 'delete', 'no-op'] as const;
export type PreviewSummary = Record<(typeof SUMMARY_KEYS)[number], number>;

/** What the worker would do for one event: the step names of its plan, in order, and the plan's note. */
export type EventPlan = { id: string; email: string; actions: string[]; note?: string };

/** One event's preview: its plan, or why the worker would refuse it (the policy, before any write). */
export type EventPreview = { plan: EventPlan } | { id: string; refused: string };

/** Concurrent reads of one preview; the pacer holds them to the tenant's rate anyway. */
const READS_IN_FLIGHT = 4;

/** Plans each event against TrueFoundry's current state; one preview per event, in order. */
export async function previewEvents(
  events: readonly CanonicalEvent[],
  trueFoundry: { api: UsersApiProvider; config: ConvergenceConfig },
): Promise<EventPreview[]> {
  const { config } = trueFoundry;
  const nowIso = new Date().toISOString();
  const reader = new ReadOnlyUsers(trueFoundry.api);
  // One read per distinct email, however many events name it.
  const reads = new Map<string, Promise<User | undefined>>();
  const read = (email: string) => {
    const key = email.toLowerCase();
    let user = reads.get(key);
    if (!user) {
      user = reader.findByEmail(email);
      reads.set(key, user);
    }
    return user;
  };
  return mapWithConcurrency(events, READS_IN_FLIGHT, async (event): Promise<EventPreview> => {
    const email = event.employee.email;
    const desired = desiredStateOf(event, config.roleMapping, {
      deleteAfterOffboard: config.deleteAfterOffboard,
    });
    // The worker's own policy check (derived roles above the ceiling, protected accounts): it fails the event.
    const refused = policyRefusal(
      event,
      [{ email, desired, primary: true }],
      config.policy,
      config.roleMapping,
    );
    if (refused) return { id: event.id, refused };
    const plan = planConvergence(desired, observe(await read(email)), config.provisionMode);
    // Effective later: planned against TrueFoundry as it is now, which may change before it runs.
    const effective = effectiveTimeOf(event);
    const when =
      event.effectiveAt !== undefined && effective > nowIso ? `scheduled for ${effective}` : undefined;
    const note = [plan.note, when].filter((n): n is string => n !== undefined).join('; ');
    return {
      plan: {
        id: event.id,
        email,
        actions: plan.steps.map(actionOf),
        ...(note ? { note } : {}),
      },
    };
  });
}

/** The step's name as the worker records it; a role step names its resource type (`set-roles:tenant`). */
export const actionOf = (step: Step): string =>
  step.action === 'set-roles' ? `set-roles:${step.resourceType}` : step.action;

export function summarise(plans: readonly Pick<EventPlan, 'actions'>[]): PreviewSummary {
  const summary = Object.fromEntries(SUMMARY_KEYS.map((key) => [key, 0])) as PreviewSummary;
  for (const { actions } of plans) {
    if (actions.length === 0) summary['no-op']++;
    for (const action of actions) summary[counterOf(action)]++;
  }
  return summary;
}

function counterOf(action: string): Exclude<keyof PreviewSummary, 'no-op'> {
  if (action === 'register' || action === 'invite') return 'create';
  if (action.startsWith('set-roles')) return 'set-roles';
  if (action === 'activate' || action === 'deactivate' || action === 'delete') return action;
  throw new Error(`unknown step action ${action}`);
}

/**
 * The users API with its list read only: a preview holds no method that writes, so no mistake in it can
 * write to TrueFoundry. Re-reads the credentials once after a 401, as the worker does.
 */
class ReadOnlyUsers implements UsersReader {
  private api: Promise<UsersApi> | undefined;
  private refreshed = false;

  constructor(private readonly provider: UsersApiProvider) {}

  async findByEmail(email: string, options?: CallOptions): Promise<User | undefined> {
    this.api ??= this.provider.get();
    try {
      return await (await this.api).findByEmail(email, options);
    } catch (error) {
      if (!(error instanceof TrueFoundryUnauthorizedError)) throw error;
      if (!this.refreshed) {
        this.refreshed = true;
        this.api = this.provider.refresh();
      }
      return (await this.api).findByEmail(email, options);
    }
  }
}
