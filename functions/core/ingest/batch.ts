import type { Submission } from './accept-events';

/*
 * Batch onboarding files (CSV in csv.ts, JSON Lines in ndjson.ts) to canonical events, each with the line it
 * came from: what a parse yields, whatever the format.
 */

/** An accepted row and the physical line of the file it came from (1-based). */
export type BatchRow = { line: number } & Submission;
/** A row that is not an event, with the reason, so the uploader can fix that line and re-send. */
export type RejectedRow = { line: number; error: string };
export type ParsedBatch = { accepted: BatchRow[]; rejected: RejectedRow[] };

/**
 * Gathers a batch's outcome row by row. An id already accepted from an earlier line is rejected: the
 * queue would silently drop it as a repeat, and a file that says two things under one id is a mistake
 * the uploader should see.
 */
export class BatchCollector {
  readonly #accepted: BatchRow[] = [];
  readonly #rejected: RejectedRow[] = [];
  readonly #lineOfId = new Map<string, number>();

  accept(line: number, row: Submission): void {
    const firstLine = this.#lineOfId.get(row.event.id);
    if (firstLine !== undefined) {
      this.reject(line, `duplicate id of line ${firstLine} (${row.event.id})`);
      return;
    }
    this.#lineOfId.set(row.event.id, line);
    this.#accepted.push({ line, ...row });
  }

  reject(line: number, error: string): void {
    this.#rejected.push({ line, error });
  }

  result(): ParsedBatch {
    return { accepted: this.#accepted, rejected: this.#rejected };
  }
}

/**
 * What a parser needs besides the text: when the file arrived (the time of rows that give none, and the
 * clock future times are checked against) and the batch it belongs to (part of every derived id).
 */
export type BatchParseOptions = { receivedAt: string; batchId: string };

/**
 * The batch file itself cannot be read: a bad header or quoting that leaves the rows unknowable. Nothing
 * in such a file is accepted, so the uploader fixes the file and sends it again. `line` and `column` are
 * 1-based; `column` counts cells (fields), not characters.
 */
export class BatchFormatError extends Error {
  readonly line?: number;
  readonly column?: number;

  constructor(reason: string, at: { line?: number; column?: number } = {}) {
    super(`${locationOf(at)}${reason}`);
    this.name = 'BatchFormatError';
    this.line = at.line;
    this.column = at.column;
  }
}

function locationOf({ line, column }: { line?: number; column?: number }): string {
  if (line === undefined) return '';
  return column === undefined ? `line ${line}: ` : `line ${line}, column ${column}: `;
}
