import { silentLog } from '../functions/core/engine/ports';
import { type ReleaseDeps, releaseDueEvents } from '../functions/core/schedule/release-due';

/** Often enough that an event runs within about a second of its effective time; the query is one index probe. */
export const LOCAL_SWEEP_PERIOD_MS = 250;

export type Scheduler = { stop(): Promise<void> };

/**
 * The local runtime's side of effective dates (functions/core/schedule/release-due.ts): sweeps the SQLite
 * time index every quarter of a second and queues what is due. The schedule is in the database, so a restart
 * loses nothing: the first sweep after it queues whatever fell due while the runtime was down.
 * A chain of timeouts rather than setInterval, so a slow sweep never overlaps the next.
 */
export function startScheduler(deps: ReleaseDeps, periodMs = LOCAL_SWEEP_PERIOD_MS): Scheduler {
  const log = deps.log ?? silentLog;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = releaseDueEvents(deps)
      .then(() => undefined)
      .catch((error: unknown) => {
        log.error('the scheduler could not release due events; it tries again', {
          error: error instanceof Error ? error.message : String(error),
        });
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, periodMs);
      });
  };
  tick();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
