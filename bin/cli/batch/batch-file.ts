import { extname } from 'node:path';
import { CsvError, parse } from 'csv-parse/sync';
import { BatchFormatError, type RejectedRow } from '../../../functions/core/ingest/batch';
import { parseCsvBatch } from '../../../functions/core/ingest/csv';
import { CSV_OPTIONS, readCsvHeader, readCsvRecords } from '../../../functions/core/ingest/csv-file';
import { MAX_BATCH_BODY_BYTES } from '../../../functions/core/ingest/http';
import { parseNdjsonBatch } from '../../../functions/core/ingest/ndjson';
import { CliError } from '../cli-io';

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

const FORMAT_OF_EXTENSION: Readonly<Record<string, BatchFormat>> = {
  '.csv': 'csv',
  '.jsonl': 'ndjson',
  '.ndjson': 'ndjson',
};

/** The format by extension; otherwise a file whose first character opens a JSON object is JSON Lines. */
function batchFormatOf(name: string, text: string): BatchFormat {
  const extension = extname(name).toLowerCase();
  if (Object.hasOwn(FORMAT_OF_EXTENSION, extension)) return FORMAT_OF_EXTENSION[extension]!;
  return text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .startsWith('{')
    ? 'ndjson'
    : 'csv';
}

export function readBatchFile(name: string, bytes: Buffer): { file: BatchFile; text: string } {
  const text = bytes.toString('utf8');
  const file = batchFormatOf(name, text) === 'csv' ? splitCsvRecords(name, bytes) : splitNdjsonRecords(text);
  if (file.records.length === 0) throw new CliError(`${name} holds no rows; nothing was sent`);
  return { file, text };
}

const LINE_BREAK = /\r\n|\r|\n/g;
const LINE_BREAK_AT_END = /[\r\n]$/;

/**
 * Splits a CSV file into its header and its records, each as the exact bytes of the file, so that any
 * run of records behind the header is a valid CSV file again. Record boundaries come from csv-parse
 * (the byte offset after each record), not from line breaks, because a quoted cell may span lines.
 * Blank records are dropped: the server skips them too, and they carry nothing to report.
 */
function splitCsvRecords(name: string, bytes: Buffer): BatchFile {
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

/** Splits a JSON Lines file into its non-blank lines, numbered as the server numbers them (by `\n`). */
function splitNdjsonRecords(text: string): BatchFile {
  const records = text
    .split('\n')
    .map((raw, index) => ({ line: index + 1, text: `${raw}\n`, span: 1 }))
    .filter((record) => record.text.trim() !== '');
  return { format: 'ndjson', header: undefined, records };
}

/** A run of consecutive records sent in one POST /batch. */
export type BatchChunk = { records: BatchRecord[] };

/** A chunk as sent: its body, and a way back from the body's line numbers to the file's. */
export type ChunkBody = { body: string; originalLine: (chunkLine: number) => number };

/**
 * Cuts the file into chunks of at most `chunkRows` records and at most the request size limit; the same
 * file and chunk size always give the same chunks, which is what lets an upload resume by chunk count.
 */
export function chunkBatch(file: BatchFile, chunkRows: number, name: string): BatchChunk[] {
  const headerBytes = file.header ? Buffer.byteLength(file.header.text) : 0;
  const chunks: BatchChunk[] = [];
  let records: BatchRecord[] = [];
  let bytes = headerBytes;
  for (const record of file.records) {
    const size = Buffer.byteLength(record.text);
    if (headerBytes + size > MAX_BATCH_BODY_BYTES) {
      throw new CliError(`${name}: the row on line ${record.line} is larger than a request may be (5 MiB)`);
    }
    if (records.length === chunkRows || bytes + size > MAX_BATCH_BODY_BYTES) {
      chunks.push({ records });
      records = [];
      bytes = headerBytes;
    }
    records.push(record);
    bytes += size;
  }
  if (records.length > 0) chunks.push({ records });
  return chunks;
}

/** The chunk's text behind the header (CSV), and the line map the server's `rejected[].line` needs. */
export function chunkBody(file: BatchFile, chunk: BatchChunk): ChunkBody {
  const parts = file.header ? [file.header, ...chunk.records] : chunk.records;
  const chunkStarts: number[] = [];
  let line = 1;
  for (const part of parts) {
    chunkStarts.push(line);
    line += part.span;
  }
  return {
    body: parts.map((part) => part.text).join(''),
    originalLine: (chunkLine) => {
      const index = lastAtOrBefore(chunkStarts, chunkLine);
      const part = parts[index]!;
      return part.line + (chunkLine - chunkStarts[index]!);
    },
  };
}

/** Binary search: the index of the last start at or before `value` (0 when none is). */
function lastAtOrBefore(starts: readonly number[], value: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle]! <= value) low = middle;
    else high = middle - 1;
  }
  return low;
}

/**
 * --strict is all or nothing for the whole file, not per chunk: the file is read here with the server's
 * own parsers, and nothing is sent when any row would be rejected (ids repeated across chunks included).
 */
export function rowsRejectedByServerRules(
  name: string,
  format: BatchFormat,
  text: string,
  nowMs: number,
): RejectedRow[] {
  const parse = format === 'csv' ? parseCsvBatch : parseNdjsonBatch;
  try {
    // The batch id only goes into derived ids, the same for every row of the file: any name finds the
    // same repeated ids.
    return parse(text, { receivedAt: new Date(nowMs).toISOString(), batchId: 'strict-check' }).rejected;
  } catch (error) {
    if (error instanceof BatchFormatError) throw new CliError(`${name}: ${error.message}; nothing was sent`);
    throw error;
  }
}
