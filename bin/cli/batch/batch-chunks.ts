import { MAX_BATCH_BODY_BYTES } from '../../../functions/core/ingest/limits';
import { CliError } from '../cli-error';
import type { BatchFile, BatchRecord } from './batch-record';

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
