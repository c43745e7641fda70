import { extname } from 'node:path';
import { CliError } from '../cli-error';
import type { BatchFile, BatchFormat } from './batch-record';
import { splitCsvRecords } from './split-csv-records';
import { splitNdjsonRecords } from './split-ndjson-records';

const FORMAT_OF_EXTENSION: Readonly<Record<string, BatchFormat>> = {
  '.csv': 'csv',
  '.jsonl': 'ndjson',
  '.ndjson': 'ndjson',
};

/** The format by extension; otherwise a file whose first character opens a JSON object is JSON Lines. */
export function batchFormatOf(name: string, text: string): BatchFormat {
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
