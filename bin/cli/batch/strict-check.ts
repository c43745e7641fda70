import {
  BatchFormatError,
  parseCsvBatch,
  parseNdjsonBatch,
  type RejectedRow,
} from '../../../functions/core/ingest/batch/parse-batch';
import { CliError } from '../cli-error';
import type { BatchFormat } from './batch-record';

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
