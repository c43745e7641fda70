/**
 * One measured figure of `npm run bench`: what every bench module returns, so that the runner can print one
 * table (figure, measured, reference, target, met?) and write bench/results.json and bench/report.md.
 */
export type Figure = {
  /** Stable key for results.json, e.g. `throughput.mixed.ratio`. */
  id: string;
  /** What a reader sees in the table, e.g. "Mixed drain ÷ rate-limit bound". */
  label: string;
  measured: number;
  unit: string;
  /** The side-by-side reference measured in the same run (a bare server, a sequential loop, an empty module). */
  reference?: { label: string; value: number; unit: string };
  /** The target, as text ("≤ 1.05") and as a check on `measured`. */
  target?: { text: string; met: boolean };
  /** Why a target was missed, from measurements: never hidden. */
  reason?: string;
  /** Anything else worth a line in the report (sizes, counts, the speed-up). */
  details?: Record<string, number | string>;
};

/** A time series or a distribution for the report's SVG charts. */
export type Series = {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  lines: { label: string; points: Array<[number, number]> }[];
  /** A horizontal line, e.g. the rate limit. */
  limit?: { label: string; value: number };
};

export type BenchResult = { figures: Figure[]; series?: Series[] };

/** A bench module: runs alone (its own sandbox, runtime and data directory) and returns its figures. */
export type BenchModule = { name: string; run(): Promise<BenchResult> };
