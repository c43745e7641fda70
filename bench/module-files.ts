/** Bench module files: `bench/<name>.bench.ts`, each exporting a BenchModule; BENCH_ONLY names them. */
export const MODULE_SUFFIX = '.bench.ts';

/** The module files in name order, those BENCH_ONLY names if set (an unknown name is an error, not a no-op). */
export function selectModules(files: string[], only: string | undefined): string[] {
  const all = files.filter((f) => f.endsWith(MODULE_SUFFIX)).sort();
  if (only === undefined || only.trim() === '') return all;
  const wanted = only
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const stems = new Set(all.map((f) => f.slice(0, -MODULE_SUFFIX.length)));
  const unknown = wanted.filter((name) => !stems.has(name));
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_ONLY names no module file: ${unknown.join(', ')} (have: ${[...stems].join(', ')})`,
    );
  }
  return all.filter((f) => wanted.includes(f.slice(0, -MODULE_SUFFIX.length)));
}
