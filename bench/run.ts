/**
 * `npm run bench`: every bench module (`bench/*.bench.ts`, each exporting a BenchModule), one after another,
 * each alone in a process of its own (bench/run-module.ts) with its own sandbox and runtime. Prints the table
 * (figure, measured, reference, target, met?) and writes, at fixed paths so that a run can be committed:
 *
 * - bench/results.json: the machine (cores, Node, date, git commit), every figure and series, errors;
 * - bench/report.md: the table, the missed targets with their reasons, the charts, each figure's details;
 * - bench/charts/<series id>.svg: the charts (calls per second against the limit, latency percentiles…).
 *
 * BENCH_ONLY=mixed-throughput,memory runs those modules only (file names without `.bench.ts`), keeping the
 * other modules' figures from the last results.json; BENCH_SCALE
 * scales their sizes (bench/scale.ts); BENCH_MODULE_TIMEOUT_MINUTES (default 30) stops a module that hangs.
 * It measures and does not gate: missed targets exit 0; a module that crashed or gave no result exits 1.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import type { BenchResult } from './figure';
import { MODULE_SUFFIX, selectModules } from './module-files';
import {
  type BenchReport,
  type ChartFile,
  chartFileName,
  formatConsoleTable,
  type MachineFacts,
  type ModuleRun,
  renderMarkdown,
} from './report';
import type { ModuleOutput } from './run-module';
import { BENCH_SCALE } from './scale';
import { lineChart } from './svg-chart';

const BENCH_DIR = new URL('.', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;
const RESULTS_FILE = join(BENCH_DIR, 'results.json');
const REPORT_FILE = join(BENCH_DIR, 'report.md');
const CHARTS_DIR = join(BENCH_DIR, 'charts');
const TIMEOUT_MS = Number(process.env.BENCH_MODULE_TIMEOUT_MINUTES ?? 30) * 60_000;
/** After SIGTERM, how long a module's process group gets to stop its runtimes before SIGKILL. */
const STOP_GRACE_MS = 15_000;

function git(args: string[]): string {
  try {
    // --no-optional-locks: other sessions may be running git in this tree; a status must not take the index lock.
    return execFileSync('git', ['--no-optional-locks', ...args], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function machineFacts(): MachineFacts {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: totalmem() / 1024 ** 3,
    node: process.versions.node,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    gitCommit: git(['rev-parse', 'HEAD']),
    gitDirty: git(['status', '--porcelain']) !== '',
    scale: BENCH_SCALE,
  };
}

/** Runs one module file in its own process group, so that a timeout stops the runtimes it started too. */
async function runModule(file: string, scratch: string): Promise<ModuleRun> {
  const stem = file.slice(0, -MODULE_SUFFIX.length);
  const out = join(scratch, `${stem}.json`);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(BENCH_DIR, 'run-module.ts'), join(BENCH_DIR, file), out],
    { cwd: ROOT, stdio: 'inherit', detached: true },
  );
  running = child;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stopGroup(child);
  }, TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  running = undefined;
  const durationMs = performance.now() - started;
  const base = { name: stem, file: `bench/${file}`, durationMs };
  if (timedOut) return { ...base, error: `did not finish within ${TIMEOUT_MS / 60_000} minutes` };
  if (!existsSync(out)) return { ...base, error: `its process exited with ${code} before writing a result` };
  const output = JSON.parse(readFileSync(out, 'utf8')) as ModuleOutput;
  return {
    ...base,
    name: output.name,
    ...(output.result ? { result: output.result } : {}),
    ...(output.error ? { error: output.error } : {}),
  };
}

let running: ChildProcess | undefined;

function stopGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      // The module's own process group (detached), which holds the runtimes it started and nothing else.
      process.kill(-(child.pid as number), signal);
    } catch {
      // Already gone.
    }
  };
  signalGroup('SIGTERM');
  setTimeout(() => signalGroup('SIGKILL'), STOP_GRACE_MS).unref();
}

/**
 * Formats results.json as the repository's linter wants it (`npm run lint` checks JSON too, and a final run's
 * results are committed): JSON.stringify's layout, one number a line, is not Biome's.
 */
function formatWithBiome(file: string): void {
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/@biomejs/biome/bin/biome'), 'format', '--write', file],
      {
        cwd: ROOT,
        stdio: 'ignore',
      },
    );
  } catch {
    console.log(
      `could not format ${relative(ROOT, file)} with Biome: \`npx biome format --write\` it before committing`,
    );
  }
}

/** The charts of this run, written to bench/charts; charts of an earlier run that this one did not make go. */
function writeCharts(runs: ModuleRun[]): ChartFile[] {
  mkdirSync(CHARTS_DIR, { recursive: true });
  const charts: ChartFile[] = [];
  for (const run of runs) {
    for (const series of run.result?.series ?? []) {
      const name = chartFileName(series);
      writeFileSync(join(CHARTS_DIR, name), lineChart(series));
      charts.push({ series, path: `charts/${name}` });
    }
  }
  const written = new Set(charts.map((c) => c.path.slice('charts/'.length)));
  for (const file of readdirSync(CHARTS_DIR)) {
    if (file.endsWith('.svg') && !written.has(file)) rmSync(join(CHARTS_DIR, file));
  }
  return charts;
}

async function main(): Promise<void> {
  const files = selectModules(readdirSync(BENCH_DIR), process.env.BENCH_ONLY);
  const machine = machineFacts();
  console.log(
    `npm run bench: ${files.length} modules (${files.join(', ')}) on ${machine.cores} cores, Node ${machine.node}` +
      `${BENCH_SCALE === 1 ? '' : `, BENCH_SCALE ${BENCH_SCALE}`}`,
  );
  const scratch = mkdtempSync(join(tmpdir(), 'hrp-bench-'));
  const runs: ModuleRun[] = [];
  try {
    for (const file of files) {
      console.log(`\n=== ${file}`);
      const run = await runModule(file, scratch);
      runs.push(run);
      console.log(`\n${formatConsoleTable([run])}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  // BENCH_ONLY re-runs some modules: the others keep their figures from the last results.json, so the report
  // stays whole (each module's own duration is kept; the machine facts are this run's).
  const kept = process.env.BENCH_ONLY ? earlierRuns(runs) : [];
  runs.push(...kept);
  runs.sort((a, b) => a.name.localeCompare(b.name));
  const report: BenchReport = { machine, modules: runs };
  const charts = writeCharts(runs);
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify(
      {
        machine,
        modules: runs.map((run) => ({
          name: run.name,
          file: run.file,
          durationMs: Math.round(run.durationMs),
          figures: run.result?.figures ?? [],
          series: run.result?.series ?? [],
          ...(run.error ? { error: run.error } : {}),
        })),
      },
      null,
      2,
    )}\n`,
  );
  formatWithBiome(RESULTS_FILE);
  writeFileSync(REPORT_FILE, renderMarkdown(report, charts));
  // The report is committed: formatted as `npm run lint` wants it.
  formatWithBiome(REPORT_FILE);
  console.log(`\n${formatConsoleTable(runs)}`);
  console.log(
    `\nwrote ${[RESULTS_FILE, REPORT_FILE, CHARTS_DIR].map((p) => relative(ROOT, p)).join(', ')} (${charts.length} charts)`,
  );
  process.exitCode = runs.some((run) => run.error !== undefined) ? 1 : 0;
}

/** The modules of the last results.json that this run did not run again. */
function earlierRuns(runs: readonly ModuleRun[]): ModuleRun[] {
  if (!existsSync(RESULTS_FILE)) return [];
  const ran = new Set(runs.map((run) => run.name));
  const earlier = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as {
    modules: (Pick<ModuleRun, 'name' | 'file' | 'durationMs' | 'error'> & BenchResult)[];
  };
  return earlier.modules
    .filter((module) => !ran.has(module.name))
    .map(({ figures, series, ...module }) => ({ ...module, result: { figures, series: series ?? [] } }));
}

// Ctrl-C: the modules run in their own process groups, which the terminal's signal does not reach.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    const child = running;
    if (!child) process.exit(130);
    stopGroup(child);
    child.once('exit', () => process.exit(130));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
