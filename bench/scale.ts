/**
 * BENCH_SCALE multiplies the sizes of every bench module (1, the default, is the sizes): develop with
 * BENCH_SCALE=0.1 on a shared machine, run the full sizes alone. Read once, so a module's sizes are fixed.
 */
export const BENCH_SCALE = readScale(process.env.BENCH_SCALE);

function readScale(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 1;
  const scale = Number(value);
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new Error(`BENCH_SCALE must be a positive number, got ${value}`);
  return scale;
}

/** `size` times BENCH_SCALE, rounded, and at least `least`. */
export function scaled(size: number, least = 1): number {
  return Math.max(least, Math.round(size * BENCH_SCALE));
}
