/**
 * How many list requests a second the TrueFoundry sandbox answers over a table of thousands of users, 20 at a
 * time. The throughput benches lean on it at 100 calls/s, so the target is several hundred: a sandbox slower
 * than that would be what they measure. Moved here from test/sandbox/throughput.test.ts, which still proves
 * every request is answered and logged: a rate is the bench's to measure, as a loaded machine fails a test
 * that times it. A module of `npm run bench`; alone: `npx tsx bench/sandbox-throughput.bench.ts`.
 */
import { USERS_PATH } from '../functions/core/truefoundry/api-contract';
import { startSandbox } from '../sandbox';
import type { BenchModule } from './figure';
import { runWhenMain } from './run-alone';
import { scaled } from './scale';

const USERS = 5_000;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? scaled(1_000, 100));
const CONCURRENCY = 20;
const TARGET_PER_SECOND = 300;

export const sandboxThroughputBench: BenchModule = {
  name: 'sandbox-throughput',
  async run() {
    const sandbox = await startSandbox();
    try {
      for (let index = 0; index < USERS; index += 1) sandbox.seedUser({ email: `user${index}@x.com` });
      let next = 0;
      const worker = async () => {
        while (next < REQUESTS) {
          const offset = (next++ % 50) * 100;
          const reply = await fetch(`${sandbox.url}/${USERS_PATH}?limit=100&offset=${offset}&query=user`, {
            headers: { authorization: `Bearer ${sandbox.apiKey}` },
          });
          if (reply.status !== 200) throw new Error(`list answered ${reply.status}`);
          await reply.arrayBuffer();
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const perSecond = REQUESTS / ((performance.now() - started) / 1000);
      return {
        figures: [
          {
            id: 'sandbox.list-throughput',
            label: 'Sandbox list requests per second',
            measured: perSecond,
            unit: 'requests/s',
            target: { text: `> ${TARGET_PER_SECOND}/s`, met: perSecond > TARGET_PER_SECOND },
            reason:
              'the machine was loaded by other work, or listing got slower (the sandbox filters and pages the whole table per request)',
            details: { users: USERS, requests: REQUESTS, 'at a time': CONCURRENCY },
          },
        ],
      };
    } finally {
      await sandbox.close();
    }
  },
};

runWhenMain(import.meta.url, sandboxThroughputBench);
