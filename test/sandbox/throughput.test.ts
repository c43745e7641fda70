import { describe, expect, it } from 'vitest';
import { USERS_PATH } from '../../functions/core/truefoundry/paths';
import { startSandbox } from '../../sandbox';

describe('throughput', () => {
  it('sustains several hundred list requests per second over a table of thousands of users', async () => {
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
      const started = performance.now();
      await Promise.all(Array.from({ length: concurrency }, worker));
      const perSecond = requests / ((performance.now() - started) / 1000);
      expect(perSecond).toBeGreaterThan(300);
      expect(sandbox.calls()).toHaveLength(requests);
    } finally {
      await sandbox.close();
    }
  });
});
