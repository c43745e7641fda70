import type { StateStore } from '../../engine/ports';
import { MemoryEmployeeState } from './memory-employee-state';
import { MemoryEventStore } from './memory-event-store';
import { MemoryStepLedger } from './memory-step-ledger';

export { MemoryEmployeeState, MemoryEventStore, MemoryStepLedger };

export function createMemoryStateStore(): StateStore {
  return {
    events: new MemoryEventStore(),
    ledger: new MemoryStepLedger(),
    employees: new MemoryEmployeeState(),
  };
}
