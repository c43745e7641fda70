import { type CliOutput, field } from '../output';
import type { BatchProgress, ProgressCounts, ProgressSink } from './resumable-upload';

export type { ProgressCounts } from './resumable-upload';

const PLAIN_EVERY_MS = 2_000;
const BAR_WIDTH = 24;

/**
 * Upload progress on stderr: one line redrawn in place on a terminal, and plain lines every few seconds
 * otherwise (CI logs, a redirect), so a log shows progress without thousands of redraws.
 */
export class ProgressBar implements ProgressSink {
  readonly #out: CliOutput;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #rowsAtStart: number;
  #lastPlainAt: number;
  #drawn = false;

  /** `rowsAtStart`: rows sent by an earlier run, which do not count towards this run's rate. */
  constructor(out: CliOutput, now: () => number, rowsAtStart: number) {
    this.#out = out;
    this.#now = now;
    this.#startedAt = now();
    // In a log, the first line comes after a few seconds (or at the end): a quick upload gets one line.
    this.#lastPlainAt = this.#startedAt;
    this.#rowsAtStart = rowsAtStart;
  }

  update(counts: ProgressCounts): void {
    if (this.#out.isTTY) {
      const line = `${this.#bar(counts)} ${this.#numbers(counts)}`;
      // A line wider than the terminal wraps, and \r would then redraw only its last part.
      const width = this.#out.columns;
      this.#out.write(`\r\x1b[2K${width && line.length >= width ? line.slice(0, width - 1) : line}`);
      this.#drawn = true;
    } else if (this.#now() - this.#lastPlainAt >= PLAIN_EVERY_MS) {
      this.#plain(counts);
    }
  }

  /** The final state, always shown; leaves the cursor on a fresh line. */
  finish(counts: ProgressCounts): void {
    if (this.#out.isTTY) {
      this.update(counts);
      this.#out.write('\n');
      this.#drawn = false;
    } else {
      this.#plain(counts);
    }
  }

  /** Ends the redrawn line before an error message is printed under it. */
  interrupt(): void {
    if (this.#drawn) this.#out.write('\n');
    this.#drawn = false;
  }

  #plain(counts: ProgressCounts): void {
    this.#lastPlainAt = this.#now();
    this.#out.write(`batch: ${this.#numbers(counts)}\n`);
  }

  #bar({ rowsSent, rowsTotal }: ProgressCounts): string {
    const filled = rowsTotal === 0 ? BAR_WIDTH : Math.round((rowsSent / rowsTotal) * BAR_WIDTH);
    return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  }

  #numbers({ rowsSent, rowsTotal, accepted, rejected }: ProgressCounts): string {
    const percent = rowsTotal === 0 ? 100 : Math.floor((rowsSent / rowsTotal) * 100);
    const seconds = (this.#now() - this.#startedAt) / 1000;
    const rate = seconds > 0 ? Math.round((rowsSent - this.#rowsAtStart) / seconds) : 0;
    return `${rowsSent}/${rowsTotal} rows (${percent}%)  accepted ${accepted}  rejected ${rejected}  ${rate} rows/s`;
  }
}

/** The final word on an upload: totals, then every rejected row by its line in the file as the operator has it. */
export function batchReport(name: string, progress: BatchProgress, rowsTotal: number): string[] {
  const { accepted, duplicates, rejected } = progress.totals;
  const requests = `${progress.chunks} request${progress.chunks === 1 ? '' : 's'}`;
  return [
    `${name} → batch ${field(progress.batchId)}`,
    `  rows      ${rowsTotal} in ${requests}`,
    `  accepted  ${accepted + duplicates} (${accepted} new, ${duplicates} accepted before)`,
    `  rejected  ${rejected.length}`,
    ...rejectedRows(name, rejected),
  ];
}

export function rejectedRows(name: string, rejected: BatchProgress['totals']['rejected']): string[] {
  if (rejected.length === 0) return [];
  const sorted = [...rejected].sort((a, b) => a.line - b.line);
  return [
    `rejected rows (line in ${name}: error)`,
    ...sorted.map((row) => `  line ${row.line}: ${field(row.error)}`),
  ];
}
