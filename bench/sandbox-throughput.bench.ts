/**
 * `npx tsx bench/sandbox-throughput.bench.ts`: how many list requests a second the TrueFoundry sandbox answers
 * over a table of thousands of users, 20 at a time. The pipeline bench leans on it at 100 calls/s, so the
 * target is several hundred. Moved here from test/sandbox/throughput.test.ts, which still proves every request
 * is answered and logged: a rate is the bench's to measure, as a loaded machine fails a test that times it.
 * Like the pipeline bench it measures and does not gate: a missed target is printed, and it exits 0.
 */
import { USERS_PATH } from '../functions/core/truefoundry/api-contract';
import { startSandbox } from '../sandbox';

const USERS = 5_000;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1_000);
const CONCURRENCY = 20;
const TARGET_PER_SECOND = 300;

async function main(): Promise<void> {
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
    const met = perSecond > TARGET_PER_SECOND;
    console.log(
      `sandbox list throughput: ${perSecond.toFixed(0)} requests/s over ${USERS} users, ${CONCURRENCY} at a ` +
        `time; target > ${TARGET_PER_SECOND}/s: ${met ? 'met' : 'MISSED (a loaded machine, or a slower list)'}`,
    );
  } finally {
    await sandbox.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
