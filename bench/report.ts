import type { BenchResult, Figure, Series } from './figure';

/*
 * What `npm run bench` prints and writes, from the bench modules' results: the table (figure, measured,
 * reference, target, met?) for the terminal and for bench/report.md, the misses with their reasons, each
 * figure's details, and the charts. Pure functions of the results, so a test can check the shape.
 */

/** Where and on what the numbers were measured: they mean little without it. */
export type MachineFacts = {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  date: string;
  gitCommit: string;
  /** Uncommitted changes in the working tree when the bench ran. */
  gitDirty: boolean;
  /** BENCH_SCALE: sizes are multiplied by it (1 is the issue's sizes). */
  scale: number;
};

/** One bench module's run: its result, or why there is none. */
export type ModuleRun = {
  name: string;
  file: string;
  durationMs: number;
  result?: BenchResult;
  error?: string;
};

export type BenchReport = { machine: MachineFacts; modules: ModuleRun[] };

/** A chart written next to the report, by path relative to bench/report.md. */
export type ChartFile = { series: Series; path: string };

const HEADER = ['figure', 'measured', 'reference', 'target', 'met?'];

/** A number as a reader wants it: a few significant digits, thousands separated. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : magnitude >= 0.01 ? 3 : 4;
  return value.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: digits });
}

export function formatValue(value: number, unit: string): string {
  if (unit === '') return formatNumber(value);
  if (unit === '%' || unit === '×') return `${formatNumber(value)}${unit === '%' ? ' %' : '×'}`;
  if (unit === '$') {
    const cents = Math.abs(value) < 1 ? 3 : 2;
    return `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: cents })}`;
  }
  return `${formatNumber(value)} ${unit}`;
}

export function metText(figure: Figure): string {
  if (!figure.target) return '';
  return figure.target.met ? 'met' : 'MISSED';
}

/** The table's cells, one row per figure, in module order. */
export function tableRows(modules: ModuleRun[]): string[][] {
  return modules.flatMap((run) =>
    (run.result?.figures ?? []).map((figure) => [
      figure.label,
      formatValue(figure.measured, figure.unit),
      figure.reference
        ? `${formatValue(figure.reference.value, figure.reference.unit)} (${figure.reference.label})`
        : '',
      figure.target?.text ?? '',
      metText(figure),
    ]),
  );
}

/** The misses, each with its reason; a miss without one says so, since that is a bench module's bug. */
export function missedLines(modules: ModuleRun[]): string[] {
  return modules.flatMap((run) =>
    (run.result?.figures ?? [])
      .filter((figure) => figure.target && !figure.target.met)
      .map(
        (figure) =>
          `${figure.label} (${formatValue(figure.measured, figure.unit)}, target ${figure.target?.text}): ` +
          (figure.reason ?? 'no reason given (the bench module must give one)'),
      ),
  );
}

/** The modules that gave no result (crashed, timed out, not found), by the first line of their error. */
export function failedLines(modules: ModuleRun[]): string[] {
  return modules
    .filter((run) => run.error !== undefined)
    .map((run) => `${run.name}: ${(run.error ?? '').split('\n')[0]}`);
}

/** The terminal table, padded to columns, then the misses and the modules that did not run. */
export function formatConsoleTable(modules: ModuleRun[]): string {
  const rows = tableRows(modules);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(HEADER), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  for (const missed of missedLines(modules)) out.push(`MISSED ${missed}`);
  for (const failed of failedLines(modules)) out.push(`DID NOT RUN ${failed}`);
  return out.join('\n');
}

/** A Markdown table cell: pipes escaped, no line breaks. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

export function renderMarkdown(report: BenchReport, charts: ChartFile[] = []): string {
  const { machine, modules } = report;
  const lines: string[] = [
    '# Benchmark report',
    '',
    `Written by \`npm run bench\` on ${machine.date}: ${machine.cores} cores (${machine.cpuModel}), ` +
      `${formatNumber(machine.memoryGb)} GB, Node ${machine.node} on ${machine.platform}, commit ` +
      `${machine.gitCommit.slice(0, 12)}${machine.gitDirty ? ' with uncommitted changes' : ''}` +
      `${machine.scale === 1 ? '' : `, BENCH_SCALE ${machine.scale} (sizes scaled down; not the issue's figures)`}. ` +
      'Each figure is measured in one run, side by side with its reference; a missed target is listed with ' +
      'its reason. The numbers are in bench/results.json.',
    '',
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map(() => '---').join(' | ')} |`,
    ...tableRows(modules).map((row) => `| ${row.map(cell).join(' | ')} |`),
    '',
  ];
  const missed = missedLines(modules);
  lines.push('## Missed targets', '');
  if (missed.length === 0) lines.push('None.', '');
  else lines.push(...missed.map((m) => `- ${m}`), '');
  const failed = failedLines(modules);
  if (failed.length > 0) lines.push('## Modules that did not run', '', ...failed.map((f) => `- ${f}`), '');
  if (charts.length > 0) {
    lines.push('## Charts', '');
    for (const chart of charts) lines.push(`![${chart.series.title}](${chart.path})`, '');
  }
  lines.push('## Details', '');
  for (const run of modules) {
    lines.push(`### ${run.name} (${formatNumber(run.durationMs / 1000)} s)`, '');
    if (run.error !== undefined) lines.push('Did not run:', '', '```', run.error, '```', '');
    for (const figure of run.result?.figures ?? []) {
      lines.push(`- **${figure.label}** (\`${figure.id}\`): ${formatValue(figure.measured, figure.unit)}`);
      if (figure.reason && figure.target?.met !== false) lines.push(`  - note: ${figure.reason}`);
      for (const [key, value] of Object.entries(figure.details ?? {})) {
        lines.push(`  - ${key}: ${typeof value === 'number' ? formatNumber(value) : value}`);
      }
    }
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** The chart file name of a series: its id, reduced to characters safe in any file system and URL. */
export function chartFileName(series: Series): string {
  return `${series.id.toLowerCase().replace(/[^a-z0-9.-]+/g, '-')}.svg`;
}
