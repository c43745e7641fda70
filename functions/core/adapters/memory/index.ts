import type { StateStore } from '../../engine/ports';
import { MemoryEventStore } from './memory-event-store';
import { MemoryPersonDirectory } from './memory-person-directory';
import { MemoryStepLedger } from './memory-step-ledger';

export { MemoryEventStore, MemoryPersonDirectory, MemoryStepLedger };

export type MemoryStateStore = StateStore & {
  events: MemoryEventStore;
  ledger: MemoryStepLedger;
  people: MemoryPersonDirectory;
};

export function createMemoryStateStore(): MemoryStateStore {
  const events = new MemoryEventStore();
  const people = new MemoryPersonDirectory();
  return {
    events,
    ledger: new MemoryStepLedger(),
    people,
    async recordSuccess(eventId, result, { personKey, ...update }) {
      // One synchronous stretch: nothing runs between the mark and the status.
      if (!(await events.get(eventId))) throw new Error(`no event ${eventId} in the store`);
      const applied = people.apply(personKey, update);
      if (applied.applied) await events.finish(eventId, { status: 'succeeded', ...result });
      return applied;
    },
  };
}
