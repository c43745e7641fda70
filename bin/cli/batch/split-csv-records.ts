import { CsvError, parse } from 'csv-parse/sync';
import { BatchFormatError } from '../../../functions/core/ingest/batch/batch-format-error';
import { readCsvHeader } from '../../../functions/core/ingest/batch/csv-header';
import { CSV_OPTIONS, readCsvRecords } from '../../../functions/core/ingest/batch/csv-records';
import { CliError } from '../cli-error';
import type { BatchFile, BatchRecord } from './batch-record';

const LINE_BREAK = /\r\n|\r|\n/g;

/**
 * Splits a CSV file into its header and its records, each as the exact bytes of the file, so that any
 * run of records behind the header is a valid CSV file again. Record boundaries come from csv-parse
 * (the byte offset after each record), not from line breaks, because a quoted cell may span lines.
 * Blank records are dropped: the server skips them too, and they carry nothing to report.
 */
export function splitCsvRecords(name: string, bytes: Buffer): BatchFile {
  const ends: number[] = [];
  let rows: string[][];
  try {
    rows = parse(bytes, {
      ...CSV_OPTIONS,
      on_record: (record: string[], context) => {
        ends.push(context.bytes);
        return record;
      },
    });
  } catch (error) {
    if (error instanceof CsvError) throw formatErrorOf(name, bytes);
    throw error;
  }
  let header: BatchRecord | undefined;
  const records: BatchRecord[] = [];
  let start = 0;
  let line = 1;
  rows.forEach((cells, index) => {
    const end = ends[index]!;
    const raw = bytes.subarray(start, end).toString('utf8');
    start = end;
    const span = raw.match(LINE_BREAK)?.length ?? 0;
    if (!cells.every((cell) => cell.trim() === '')) {
      // The last record of a file may lack its line break; every record gets one so chunks can be joined.
      const text = LINE_BREAK_AT_END.test(raw) ? raw : `${raw}\n`;
      const record = { line, text, span: LINE_BREAK_AT_END.test(raw) ? span : span + 1 };
      if (header) records.push(record);
      else {
        checkHeader(name, line, cells);
        header = { ...record, text: record.text.replace(/^\uFEFF/, '') };
      }
    }
    line += span;
  });
  if (!header) throw new CliError(`${name} is empty: a CSV batch needs a header row and one row per event`);
  return { format: 'csv', header, records };
}

const LINE_BREAK_AT_END = /[\r\n]$/;

/** A bad header would fail every chunk the same way: say so once, before anything is sent. */
function checkHeader(name: string, line: number, cells: string[]): void {
  try {
    readCsvHeader({ line, cells });
  } catch (error) {
    if (error instanceof BatchFormatError) throw new CliError(`${name}: ${error.message}; nothing was sent`);
    throw error;
  }
}

/** The project's own reader says where quoting broke, by the line the broken record starts on. */
function formatErrorOf(name: string, bytes: Buffer): CliError {
  try {
    readCsvRecords(bytes.toString('utf8'));
  } catch (error) {
    if (error instanceof BatchFormatError) return new CliError(`${name}: ${error.message}; nothing was sent`);
  }
  return new CliError(`${name} is not a readable CSV file; nothing was sent`);
}
