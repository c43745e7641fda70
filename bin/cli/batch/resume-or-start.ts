import { relative } from 'node:path';
import { CliError } from '../cli-error';
import { newBatchId } from './batch-id';
import type { BatchProgress, FileIdentity, ProgressFile } from './progress-state';

export type UploadStart = {
  progress: BatchProgress;
  /** What the operator should know before the upload goes on (a resumed batch, a kept chunk size). */
  notes: string[];
};

/**
 * Continues an interrupted upload of the same file (same batch id, after its last completed chunk), or
 * starts a new one. A file that changed since cannot continue: its chunks would not line up.
 */
export function resumeOrStart(options: {
  store: ProgressFile;
  name: string;
  filePath: string;
  identity: FileIdentity;
  chunkRows: number;
  chunkRowsGiven: boolean;
  restart: boolean;
  nowMs: number;
  cwd: string;
}): UploadStart {
  const { store, name, identity } = options;
  if (options.restart) store.remove();
  const kept = store.load();
  if (!kept) return { progress: fresh(options), notes: [] };

  const shown = relative(options.cwd, store.path) || store.path;
  if (kept.file.size !== identity.size || kept.file.sha256 !== identity.sha256) {
    throw new CliError(
      `${name} changed since its upload as batch ${kept.batchId} stopped after ${kept.chunksDone} of ${kept.chunks} chunks (${shown}); run again with --restart to upload it from the start`,
    );
  }
  const notes = [
    `continuing batch ${kept.batchId}: ${kept.chunksDone} of ${kept.chunks} chunks (${kept.totals.rowsSent} rows) were sent before (progress in ${shown}; --restart starts over)`,
  ];
  if (options.chunkRowsGiven && options.chunkRows !== kept.chunkRows) {
    notes.push(`keeping --chunk-rows ${kept.chunkRows} of the interrupted upload, so its chunks line up`);
  }
  return { progress: kept, notes };
}

function fresh(options: {
  filePath: string;
  identity: FileIdentity;
  chunkRows: number;
  nowMs: number;
}): BatchProgress {
  return {
    version: 1,
    batchId: newBatchId(options.filePath, options.nowMs),
    file: options.identity,
    chunkRows: options.chunkRows,
    chunks: 0,
    chunksDone: 0,
    totals: { rowsSent: 0, accepted: 0, duplicates: 0, rejected: [] },
    updatedAt: new Date(options.nowMs).toISOString(),
  };
}
