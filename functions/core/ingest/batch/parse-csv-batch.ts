import { BatchFormatError } from './batch-format-error';
import { BatchCollector, type BatchParseOptions, type ParsedBatch } from './batch-result';
import { CSV_COLUMNS } from './csv-columns';
import { readCsvHeader } from './csv-header';
import { type CsvRecord, readCsvRecords } from './csv-records';
import { csvRowToEvent } from './csv-row-event';

/**
 * Reads a batch onboarding CSV: a header row naming known columns (any order), then one event per row.
 * Bad rows are rejected one by one with their line; a file that cannot be read at all (bad header,
 * broken quoting) throws BatchFormatError.
 */
export function parseCsvBatch(text: string, options: BatchParseOptions): ParsedBatch {
  const records = readCsvRecords(text);
  const headerIndex = records.findIndex((record) => !isBlank(record));
  if (headerIndex === -1) {
    throw new BatchFormatError(
      `the file is empty; a header row is required, known columns: ${CSV_COLUMNS.join(', ')}`,
    );
  }
  const header = readCsvHeader(records[headerIndex]!);
  const batch = new BatchCollector();
  for (let index = headerIndex + 1; index < records.length; index++) {
    const record = records[index]!;
    // Blank lines (trailing ones, or spreadsheet rows of only commas) carry nothing to reject.
    if (isBlank(record)) continue;
    if (record.cells.length !== header.width) {
      batch.reject(
        record.line,
        `has ${record.cells.length} cells, expected ${header.width} (one per header column)`,
      );
      continue;
    }
    const row = csvRowToEvent(record.cells, header, options);
    if (row.ok) batch.accept(record.line, row.row);
    else batch.reject(record.line, row.error);
  }
  return batch.result();
}

const isBlank = (record: CsvRecord): boolean => record.cells.every((cell) => cell.trim() === '');
