import { createMemoryStateStore } from '../../functions/core/adapters/memory';
import { describeStateStoreContract } from '../support/state-store-contract';

describeStateStoreContract('memory', async (clock) => {
  const store = createMemoryStateStore({ now: clock.now });
  return {
    store,
    expiry: {
      person: async (personKey) => store.people.expiresAtMs.people.get(personKey),
      owner: async (email) => store.people.expiresAtMs.owners.get(email),
    },
  };
});
