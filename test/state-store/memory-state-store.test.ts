import { createMemoryStateStore } from '../../functions/core/adapters/memory';
import { describeStateStoreContract } from '../support/state-store-contract';

describeStateStoreContract('memory', async () => ({ store: createMemoryStateStore() }));
