import { randomBytes } from 'node:crypto';
import { basename, extname } from 'node:path';

/**
 * A batch id the operator recognises in `events` (source `batch:<id>`): the file's name, when the upload
 * began, and a random tail so two uploads of one file in the same second differ. 1-64 of [A-Za-z0-9._-].
 */
export function newBatchId(filePath: string, nowMs: number): string {
  const stem =
    basename(filePath, extname(filePath))
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .slice(0, 32) || 'batch';
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stem}-${stamp}-${randomBytes(3).toString('hex')}`;
}
