import type { ForgetAudit, StateStore } from '../../engine/ports';
import type { WebhookIdStore, WebhookIdVerdict } from '../../ingest/webhook-ids';
import { coversEvent } from '../../privacy/forget-person';
import { DEFAULT_RETENTION_DAYS, personExpiresAtMs } from '../../privacy/retention';
import { MemoryEventStore } from './memory-event-store';
import { MemoryOffboardGuard } from './memory-offboard-guard';
import { MemoryPersonDirectory } from './memory-person-directory';
import { MemoryStepLedger } from './memory-step-ledger';

export { MemoryEventStore, MemoryOffboardGuard, MemoryPersonDirectory, MemoryStepLedger };

export type MemoryStateStore = StateStore & {
  events: MemoryEventStore;
  ledger: MemoryStepLedger;
  people: MemoryPersonDirectory;
  guard: MemoryOffboardGuard;
};

export type MemoryStateStoreOptions = {
  /** Days people and their email links are kept after their last event (at least the dead letters'). */
  retentionDays?: number;
  /** Clock for expiry stamps, in epoch milliseconds. */
  now?: () => number;
};

export function createMemoryStateStore(options: MemoryStateStoreOptions = {}): MemoryStateStore {
  const now = options.now ?? Date.now;
  const retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
  const events = new MemoryEventStore();
  const people = new MemoryPersonDirectory(() => personExpiresAtMs(now(), retentionDays));
  const ledger = new MemoryStepLedger();
  const audits: ForgetAudit[] = [];
  return {
    events,
    ledger,
    people,
    guard: new MemoryOffboardGuard(),
    async recordSuccess(eventId, result, { personKey, ...update }) {
      // One synchronous stretch: nothing runs between the mark and the status.
      if (!(await events.get(eventId))) throw new Error(`no event ${eventId} in the store`);
      const applied = people.apply(personKey, update);
      if (applied.applied) await events.finish(eventId, { status: 'succeeded', ...result });
      return applied;
    },
    async forget(subject, { refuseWhileBusy, audit }) {
      const found = events.find((r) =>
        coversEvent(subject, { employeeKey: r.employeeKey, email: r.event.employee.email }),
      );
      const busy = found.filter((r) => r.status === 'queued' || r.status === 'running');
      if (refuseWhileBusy && busy.length > 0) return { busy: busy.map((r) => r.eventId) };
      const ids = found.map((r) => r.eventId);
      const steps = ledger.forgetEvents(ids);
      const forgotten: ForgetAudit = {
        ...audit,
        events: events.delete(ids),
        steps,
        ...people.forget(subject),
      };
      audits.push(forgotten);
      return { forgotten: { ...forgotten } };
    },
    async forgetAudits() {
      return audits.map((a) => ({ ...a }));
    },
  };
}

/** WebhookIdStore in a Map: for tests. Expired ids are dropped as they are met. */
export class MemoryWebhookIds implements WebhookIdStore {
  private readonly ids = new Map<string, { fingerprint: string; expiresAtMs: number }>();

  async remember(
    id: string,
    fingerprint: string,
    expiresAtMs: number,
    nowMs: number,
  ): Promise<WebhookIdVerdict> {
    const known = this.ids.get(id);
    if (known && known.expiresAtMs > nowMs) {
      if (known.fingerprint !== fingerprint) return 'different';
      known.expiresAtMs = Math.max(known.expiresAtMs, expiresAtMs);
      return 'same';
    }
    this.ids.set(id, { fingerprint, expiresAtMs });
    return 'first';
  }

  /** The ids recorded and not yet expired at `nowMs`. */
  recorded(nowMs = Date.now()): string[] {
    return [...this.ids].filter(([, entry]) => entry.expiresAtMs > nowMs).map(([id]) => id);
  }
}
