import type { CallRecord } from '../sandbox';

/*
 * Readings of the sandbox's call log (sandbox/server.ts keeps every TrueFoundry call with its arrival time
 * and answer) shared by the throughput benches: what was answered, what was throttled, calls per second.
 */

/** Answered by the API itself: not a 429, not dropped, not still held by latency. */
export const isAnswered = (call: CallRecord): boolean =>
  typeof call.status === 'number' && call.status !== 0 && call.status !== 429;

export const isThrottled = (call: CallRecord): boolean => call.status === 429;

/**
 * Calls per second, one point per whole second since `startedAtMs` (epoch ms): [second, calls that arrived in
 * it]. Seconds without calls count 0, so the line drops where the runtime left gaps.
 */
export function callsPerSecond(
  calls: CallRecord[],
  startedAtMs: number,
  include: (call: CallRecord) => boolean = () => true,
): Array<[number, number]> {
  const bins: number[] = [];
  for (const call of calls) {
    const second = Math.floor((Date.parse(call.at) - startedAtMs) / 1000);
    if (second < 0) continue;
    while (bins.length <= second) bins.push(0);
    if (include(call)) bins[second] = (bins[second] ?? 0) + 1;
  }
  return bins.map((count, second) => [second, count]);
}

/** The `p`th percentile (0–100) of `values`, nearest rank; NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}
