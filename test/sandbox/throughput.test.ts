import { describe, expect, it } from 'vitest';
import { USERS_PATH } from '../../functions/core/truefoundry/api-contract';
import { startSandbox } from '../../sandbox';

describe('throughput', () => {
  // How many a second is measured by bench/sandbox-throughput.bench.ts: a rate fails a test on a loaded machine.
  it('answers a thousand list requests, twenty at a time, over a table of thousands of users', async () => {
    const sandbox = await startSandbox();
    try {
      for (let index = 0; index < 5_000; index += 1) sandbox.seedUser({ email: `user${index}@x.com` });
      const requests = 1_000;
      const concurrency = 20;
      let next = 0;
      const worker = async () => {
        while (next < requests) {
          const offset = (next++ % 50) * 100;
          const reply = await fetch(`${sandbox.url}/${USERS_PATH}?limit=100&offset=${offset}&query=user`, {
            headers: { authorization: `Bearer ${sandbox.apiKey}` },
          });
          expect(reply.status).toBe(200);
          await reply.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      expect(sandbox.calls()).toHaveLength(requests);
    } finally {
      await sandbox.close();
    }
  });
});
