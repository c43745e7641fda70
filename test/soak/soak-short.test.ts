import { describe, expect, it } from 'vitest';
import { newSeed } from '../../soak/random';
import { formatReport } from '../../soak/report';
import { runSoak } from '../../soak/run';
import { SHORT_SOAK } from '../../soak/settings';

/*
 * `npm run soak` shortened to fit in `npm test`: the same code (soak/run.ts) with 400 events for 60 people
 * and one kill -9 of `npm start`, against the sandbox with its 5xx, drops, rate limit and visibility delay.
 * The full one (5,000 events, 500 people, three crashes) is `npm run soak`.
 */

const SEED = Number(process.env.SOAK_SEED ?? newSeed());

describe('the soak, shortened', () => {
  console.info(`soak seed: ${SEED} (SOAK_SEED=${SEED} replays it)`);

  it('ends every event as the oracle says, TrueFoundry equal to it, nobody created twice, no secret in any output', async () => {
    const result = await runSoak({ ...SHORT_SOAK, target: 'start', seed: SEED });
    console.info(formatReport(result));

    expect(result.violations).toEqual([]);
    // The run was the one asked for: the load, the crash and the faults all happened.
    expect(result.load.sends).toBe(SHORT_SOAK.events);
    expect(result.crashes).toHaveLength(1);
    expect(result.calls.serverErrors).toBeGreaterThan(0);
    expect(result.calls.dropped).toBeGreaterThan(0);
    expect(result.statuses.failed).toBe(result.load.deliberateFailures);
    expect(result.deadLetters).toBe(result.load.deliberateFailures);
  }, 150_000);
});
