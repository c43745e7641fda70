/**
 * One row of a batch file as it is sent: its exact text (ending in a line break), the line of the original
 * file it starts on, and how many lines it takes (a CSV cell may hold line breaks inside quotes).
 */
export type BatchRecord = { line: number; text: string; span: number };

export type BatchFormat = 'csv' | 'ndjson';

/** A batch file split into rows; CSV files also have the header every chunk repeats. */
export type BatchFile = { format: BatchFormat; header: BatchRecord | undefined; records: BatchRecord[] };

export const CONTENT_TYPES: Readonly<Record<BatchFormat, string>> = {
  csv: 'text/csv',
  ndjson: 'application/x-ndjson',
};
