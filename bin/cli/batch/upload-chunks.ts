import { relative } from 'node:path';
import type { BatchAnswer } from '../api-types';
import { CliError } from '../cli-error';
import type { ApiClient } from '../http/api-client';
import { type ApiAnswer, problemOf, unexpectedAnswer } from '../http/problem';
import { type BatchChunk, chunkBody } from './batch-chunks';
import { type BatchFile, CONTENT_TYPES } from './batch-record';
import type { ProgressBar } from './progress-bar';
import type { BatchProgress, ProgressFile } from './progress-state';

export type Upload = {
  api: ApiClient;
  name: string;
  file: BatchFile;
  chunks: BatchChunk[];
  strict: boolean;
  progress: BatchProgress;
  store: ProgressFile;
  bar: ProgressBar;
  rowsTotal: number;
  now: () => number;
  cwd: string;
};

/**
 * Sends the chunks not sent yet, one after the other, saving the progress after each. Rejected rows are
 * kept with their line in the original file. On failure the saved progress lets a rerun continue.
 */
export async function uploadChunks(upload: Upload): Promise<void> {
  const { progress, bar } = upload;
  // Saved before the first request too, so that even a failure on chunk 1 is continued under the same batch id.
  upload.store.save(progress);
  bar.update(countsOf(upload));
  for (let index = progress.chunksDone; index < upload.chunks.length; index++) {
    const chunk = upload.chunks[index]!;
    const { body, originalLine } = chunkBody(upload.file, chunk);
    const answer = await sendChunk(upload, index, body).catch((error: unknown) => {
      bar.interrupt();
      throw error instanceof CliError ? new CliError(`${error.message}\n${resumeHint(upload)}`) : error;
    });
    const counted = answer.status === 202 ? (answer.body as BatchAnswer) : rejectedOnly(answer.body);
    progress.totals.rowsSent += chunk.records.length;
    progress.totals.accepted += counted.accepted;
    progress.totals.duplicates += counted.duplicates;
    progress.totals.rejected.push(
      ...counted.rejected.map((row) => ({ ...row, line: originalLine(row.line) })),
    );
    progress.chunksDone = index + 1;
    progress.updatedAt = new Date(upload.now()).toISOString();
    upload.store.save(progress);
    bar.update(countsOf(upload));
  }
  bar.finish(countsOf(upload));
}

async function sendChunk(upload: Upload, index: number, body: string): Promise<ApiAnswer> {
  const answer = await upload.api.send({
    method: 'POST',
    path: '/batch',
    query: { batchId: upload.progress.batchId, ...(upload.strict ? { strict: 'true' } : {}) },
    body,
    contentType: CONTENT_TYPES[upload.file.format],
  });
  if (answer.status !== 202 && answer.status !== 422)
    throw unexpectedAnswer(`sending chunk ${index + 1}`, answer);
  return answer;
}

/** 422 in strict mode: this chunk was refused whole; its rejected rows say why. */
function rejectedOnly(body: unknown): Pick<BatchAnswer, 'accepted' | 'duplicates' | 'rejected'> {
  return { accepted: 0, duplicates: 0, rejected: problemOf(body).rejected ?? [] };
}

const countsOf = ({ progress, rowsTotal }: Upload) => ({
  rowsSent: progress.totals.rowsSent,
  rowsTotal,
  accepted: progress.totals.accepted + progress.totals.duplicates,
  rejected: progress.totals.rejected.length,
});

function resumeHint({ progress, store, cwd }: Upload): string {
  const shown = relative(cwd, store.path) || store.path;
  return `sent ${progress.chunksDone} of ${progress.chunks} chunks (${progress.totals.rowsSent} rows) of batch ${progress.batchId}; the progress is saved in ${shown}: run the same command again to continue, or add --restart to start over`;
}
