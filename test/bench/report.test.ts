import { describe, expect, it } from 'vitest';
import type { BenchResult, Series } from '../../bench/figure';
import { selectModules } from '../../bench/module-files';
import {
  type BenchReport,
  chartFileName,
  formatConsoleTable,
  formatValue,
  type ModuleRun,
  renderMarkdown,
  tableRows,
} from '../../bench/report';
import { lineChart, niceStep, ticks } from '../../bench/svg-chart';

const callsSeries: Series = {
  id: 'throughput.mixed/calls per second',
  title: 'Calls per second <mixed>',
  xLabel: 'seconds',
  yLabel: 'calls per second',
  lines: [
    {
      label: 'npm start',
      points: [
        [0, 40],
        [1, 98],
        [2, 101],
        [3, 99],
      ],
    },
    {
      label: 'sequential loop',
      points: [
        [0, 70],
        [1, 72],
      ],
    },
  ],
  limit: { label: 'limit 100/s', value: 100 },
};

const result: BenchResult = {
  figures: [
    {
      id: 'throughput.mixed.ratio',
      label: 'Mixed drain ÷ bound',
      measured: 1.0312,
      unit: '×',
      reference: { label: 'sequential loop', value: 1.4, unit: '×' },
      target: { text: '≤ 1.05', met: true },
      details: { 'calls per hire': 3, runtime: 'npm start' },
    },
    {
      id: 'memory.peak',
      label: 'Peak RSS',
      measured: 231.5,
      unit: 'MB',
      target: { text: '≤ 200 MB', met: false },
      reason: 'the event cache grows with every event',
    },
    {
      id: 'cost.unreasoned',
      label: 'Cost',
      measured: 0.12,
      unit: '$',
      target: { text: '< $0.10', met: false },
    },
    { id: 'info.only', label: 'Calls per offboard', measured: 2, unit: 'calls' },
  ],
  series: [callsSeries],
};

const modules: ModuleRun[] = [
  { name: 'mixed-throughput', file: 'bench/mixed-throughput.bench.ts', durationMs: 81_000, result },
  {
    name: 'ingest',
    file: 'bench/ingest.bench.ts',
    durationMs: 1_000,
    error: 'cannot load: boom\n    at bench/ingest.bench.ts:1:1',
  },
];

const report: BenchReport = {
  machine: {
    cores: 2,
    cpuModel: 'Test CPU',
    memoryGb: 7.7,
    node: '20.20.0',
    platform: 'linux x64',
    date: '2026-12-02T00:00:00.000Z',
    gitCommit: '0123456789abcdef0123',
    gitDirty: true,
    scale: 1,
  },
  modules,
};

describe('the bench table', () => {
  it('has one row per figure: figure, measured, reference, target, met?', () => {
    expect(tableRows(modules)).toEqual([
      ['Mixed drain ÷ bound', '1.03×', '1.4× (sequential loop)', '≤ 1.05', 'met'],
      ['Peak RSS', '232 MB', '', '≤ 200 MB', 'MISSED'],
      ['Cost', '$0.12', '', '< $0.10', 'MISSED'],
      ['Calls per offboard', '2 calls', '', '', ''],
    ]);
  });

  it('prints a missed target with its reason, and says so when a module gave none', () => {
    const printed = formatConsoleTable(modules).split('\n');
    expect(printed[0]).toMatch(/^figure\s+measured\s+reference\s+target\s+met\?$/);
    expect(printed).toContain(
      'MISSED Peak RSS (232 MB, target ≤ 200 MB): the event cache grows with every event',
    );
    expect(printed).toContain(
      'MISSED Cost ($0.12, target < $0.10): no reason given (the bench module must give one)',
    );
    expect(printed).toContain('DID NOT RUN ingest: cannot load: boom');
  });

  it('formats values with their units', () => {
    expect(formatValue(12_345.6, 'ms')).toBe('12,346 ms');
    expect(formatValue(0.4567, '%')).toBe('0.457 %');
    expect(formatValue(0.01234, '$')).toBe('$0.012');
    expect(formatValue(0.2, '$')).toBe('$0.20');
    expect(formatValue(7.125, '$')).toBe('$7.13');
  });
});

describe('bench/report.md', () => {
  const markdown = renderMarkdown(report, [
    { series: callsSeries, path: `charts/${chartFileName(callsSeries)}` },
  ]);
  const lines = markdown.split('\n');

  it('is a Markdown table of every figure under the machine it ran on', () => {
    expect(markdown).toContain('2 cores (Test CPU)');
    expect(markdown).toContain('commit 0123456789ab with uncommitted changes');
    const header = lines.indexOf('| figure | measured | reference | target | met? |');
    expect(header).toBeGreaterThan(0);
    expect(lines[header + 1]).toBe('| --- | --- | --- | --- | --- |');
    expect(lines.slice(header + 2, header + 6)).toEqual([
      '| Mixed drain ÷ bound | 1.03× | 1.4× (sequential loop) | ≤ 1.05 | met |',
      '| Peak RSS | 232 MB |  | ≤ 200 MB | MISSED |',
      '| Cost | $0.12 |  | < $0.10 | MISSED |',
      '| Calls per offboard | 2 calls |  |  |  |',
    ]);
    expect(lines[header + 6]).toBe('');
  });

  it('lists each missed target with its reason, and the modules that did not run', () => {
    const missed = lines.slice(lines.indexOf('## Missed targets'));
    expect(missed).toContain('- Peak RSS (232 MB, target ≤ 200 MB): the event cache grows with every event');
    expect(missed).toContain('- ingest: cannot load: boom');
    // The whole error, stack and all, under the module's details.
    expect(markdown).toContain(
      'Did not run:\n\n```\ncannot load: boom\n    at bench/ingest.bench.ts:1:1\n```',
    );
  });

  it('embeds the charts as SVG files and lists the details', () => {
    expect(markdown).toContain('![Calls per second <mixed>](charts/throughput.mixed-calls-per-second.svg)');
    expect(markdown).toContain('  - calls per hire: 3');
    expect(markdown).toContain('### mixed-throughput (81 s)');
  });

  it('says when the sizes were scaled down', () => {
    expect(renderMarkdown({ ...report, machine: { ...report.machine, scale: 0.1 } }, [])).toContain(
      "BENCH_SCALE 0.1 (sizes scaled down; not the issue's figures)",
    );
  });
});

describe('the SVG line chart', () => {
  const svg = lineChart(callsSeries);

  it('draws one polyline per line, the limit dashed, the text escaped', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const polylines = [...svg.matchAll(/<polyline points="([^"]+)"/g)].map(
      (m) => (m[1] ?? '').split(' ').length,
    );
    expect(polylines).toEqual([4, 2]);
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg).toContain('limit 100/s');
    expect(svg).toContain('Calls per second &#60;mixed&#62;');
    expect(svg).not.toContain('<mixed>');
  });

  it('is the same for the same series', () => {
    expect(lineChart(structuredClone(callsSeries))).toBe(svg);
  });

  it('puts the limit and every point inside the plot', () => {
    const ys = [...svg.matchAll(/<polyline points="([^"]+)"/g)].flatMap((m) =>
      (m[1] ?? '').split(' ').map((p) => Number(p.split(',')[1])),
    );
    for (const y of ys) expect(y).toBeGreaterThanOrEqual(56);
    for (const y of ys) expect(y).toBeLessThanOrEqual(360 - 48);
  });

  it('ticks at 1, 2 or 5 times a power of ten', () => {
    expect(niceStep(100)).toBe(20);
    expect(niceStep(7)).toBe(1);
    expect(niceStep(0.9)).toBe(0.2);
    expect(ticks(0, 101)).toEqual([0, 20, 40, 60, 80, 100, 120]);
  });
});

describe('BENCH_ONLY', () => {
  const files = ['memory.bench.ts', 'drain.ts', 'cost.bench.ts', 'mixed-throughput.bench.ts'];

  it('selects module files by name, in name order; all of them when unset', () => {
    expect(selectModules(files, undefined)).toEqual([
      'cost.bench.ts',
      'memory.bench.ts',
      'mixed-throughput.bench.ts',
    ]);
    expect(selectModules(files, 'mixed-throughput, memory')).toEqual([
      'memory.bench.ts',
      'mixed-throughput.bench.ts',
    ]);
  });

  it('refuses a name that is no module file', () => {
    expect(() => selectModules(files, 'drain')).toThrow(/BENCH_ONLY names no module file: drain/);
  });
});
