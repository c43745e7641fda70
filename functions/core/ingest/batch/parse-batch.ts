/**
 * Batch onboarding files (CSV or JSON Lines) to canonical events, each with the line it came from.
 * The entry point for the ingest handler and the operator CLI; the modules behind it hold one concern each.
 */
export { BatchFormatError } from './batch-format-error';
export type { BatchRow, ParsedBatch, RejectedRow } from './batch-result';
export { CSV_COLUMNS } from './csv-columns';
export { parseCsvBatch } from './parse-csv-batch';
export { parseNdjsonBatch } from './parse-ndjson-batch';
