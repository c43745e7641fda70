import type { BatchFile } from './batch-record';

/** Splits a JSON Lines file into its non-blank lines, numbered as the server numbers them (by `\n`). */
export function splitNdjsonRecords(text: string): BatchFile {
  const records = text
    .split('\n')
    .map((raw, index) => ({ line: index + 1, text: `${raw}\n`, span: 1 }))
    .filter((record) => record.text.trim() !== '');
  return { format: 'ndjson', header: undefined, records };
}
