import type { Series } from './figure';

/*
 * A small line chart as an SVG string, for bench/report.md: axes with round ticks, one polyline per line, a
 * dashed horizontal limit, a legend. Written by hand rather than with a chart library: the report has two
 * kinds of chart (calls per second against the limit, latency percentiles), which a few dozen lines draw, and
 * a library would be a dependency (and, for most, a browser or canvas) for that alone. The output is
 * deterministic (no ids, no dates, numbers rounded), so a re-run with the same figures gives the same file.
 */

const WIDTH = 720;
const HEIGHT = 360;
const MARGIN = { left: 64, right: 24, top: 56, bottom: 48 };
/** Colour-blind-safe (Okabe–Ito), in the order lines get them. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];
const LIMIT_COLOUR = '#B00020';

export type ChartOptions = { width?: number; height?: number };

/** 1, 2 or 5 times a power of ten: the step nearest to `count` ticks over `range`. */
export function niceStep(range: number, count = 5): number {
  if (!(range > 0) || !Number.isFinite(range)) return 1;
  const raw = range / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return nice * power;
}

/** Ticks from the multiple of `step` at or below `min` to the one at or above `max`. */
export function ticks(min: number, max: number, count = 5): number[] {
  const step = niceStep(max - min, count);
  const first = Math.floor(min / step) * step;
  const last = Math.ceil(max / step) * step;
  const out: number[] = [];
  for (let value = first; value <= last + step / 2; value += step) out.push(round(value, 10));
  return out;
}

export function lineChart(series: Series, options: ChartOptions = {}): string {
  const width = options.width ?? WIDTH;
  const height = options.height ?? HEIGHT;
  const plot = {
    left: MARGIN.left,
    top: MARGIN.top,
    width: width - MARGIN.left - MARGIN.right,
    height: height - MARGIN.top - MARGIN.bottom,
  };
  const points = series.lines.flatMap((line) => line.points);
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const xMin = xs.length > 0 ? Math.min(...xs) : 0;
  const xMaxRaw = xs.length > 0 ? Math.max(...xs) : 1;
  const xMax = xMaxRaw > xMin ? xMaxRaw : xMin + 1;
  const yTop = Math.max(0, ...ys, series.limit?.value ?? 0);
  const yTicks = ticks(Math.min(0, ...ys), yTop > 0 ? yTop * 1.05 : 1);
  const xTicks = ticks(xMin, xMax);
  const xLow = Math.min(xMin, xTicks[0] ?? xMin);
  const xHigh = Math.max(xMax, xTicks.at(-1) ?? xMax);
  const yLow = yTicks[0] ?? 0;
  const yHigh = yTicks.at(-1) ?? 1;
  const sx = (x: number) => plot.left + ((x - xLow) / (xHigh - xLow)) * plot.width;
  const sy = (y: number) => plot.top + plot.height - ((y - yLow) / (yHigh - yLow)) * plot.height;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    // The accessible name, for screen readers (and Biome's a11y rule on the committed charts).
    `<title>${escapeXml(series.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(series.title)}</text>`,
  ];
  for (const y of yTicks) {
    const py = fixed(sy(y));
    parts.push(
      `<line x1="${plot.left}" y1="${py}" x2="${plot.left + plot.width}" y2="${py}" stroke="#e0e0e0"/>`,
      `<text x="${plot.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${formatTick(y)}</text>`,
    );
  }
  for (const x of xTicks) {
    const px = fixed(sx(x));
    parts.push(
      `<line x1="${px}" y1="${plot.top + plot.height}" x2="${px}" y2="${plot.top + plot.height + 4}" stroke="#333333"/>`,
      `<text x="${px}" y="${plot.top + plot.height + 18}" text-anchor="middle">${formatTick(x)}</text>`,
    );
  }
  parts.push(
    `<rect x="${plot.left}" y="${plot.top}" width="${plot.width}" height="${plot.height}" fill="none" stroke="#333333"/>`,
    `<text x="${plot.left + plot.width / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(series.xLabel)}</text>`,
    `<text transform="translate(16 ${plot.top + plot.height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(series.yLabel)}</text>`,
  );
  if (series.limit) {
    const py = fixed(sy(series.limit.value));
    parts.push(
      `<line x1="${plot.left}" y1="${py}" x2="${plot.left + plot.width}" y2="${py}" stroke="${LIMIT_COLOUR}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      `<text x="${plot.left + plot.width - 4}" y="${fixed(sy(series.limit.value) - 5)}" text-anchor="end" fill="${LIMIT_COLOUR}">${escapeXml(series.limit.label)}</text>`,
    );
  }
  series.lines.forEach((line, index) => {
    const colour = PALETTE[index % PALETTE.length];
    const coordinates = line.points.map(([x, y]) => `${fixed(sx(x))},${fixed(sy(y))}`).join(' ');
    if (line.points.length === 1) {
      const [x, y] = line.points[0] ?? [0, 0];
      parts.push(`<circle cx="${fixed(sx(x))}" cy="${fixed(sy(y))}" r="3" fill="${colour}"/>`);
    } else if (line.points.length > 1) {
      parts.push(
        `<polyline points="${coordinates}" fill="none" stroke="${colour}" stroke-width="2" stroke-linejoin="round"/>`,
      );
    }
    // The legend: one row per line, under the title.
    const lx = plot.left + 8 + (index % 3) * 210;
    const ly = 38 + Math.floor(index / 3) * 14;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`,
      `<text x="${lx + 24}" y="${ly}" dominant-baseline="middle">${escapeXml(line.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function fixed(value: number): string {
  return String(round(value, 1));
}

function formatTick(value: number): string {
  if (Math.abs(value) >= 10_000) return `${round(value / 1000, 1)}k`;
  return String(round(value, 6));
}
