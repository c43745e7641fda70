import { createHash, randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';
import { z } from 'zod';
import { CliError } from '../cli-io';
import {
  type ApiAnswer,
  type ApiClient,
  type BatchAnswer,
  problemOf,
  unexpectedAnswer,
} from '../http/api-client';
import { type BatchChunk, type BatchFile, CONTENT_TYPES, chunkBody } from './batch-file';

const progressSchema = z.object({
  version: z.literal(1),
  batchId: z.string(),
  /** The file the progress belongs to: a changed file cannot continue where the old one stopped. */
  file: z.object({ size: z.number(), mtimeMs: z.number(), sha256: z.string() }),
  chunkRows: z.number().int().positive(),
  chunks: z.number().int().nonnegative(),
  chunksDone: z.number().int().nonnegative(),
  totals: z.object({
    rowsSent: z.number().int().nonnegative(),
    accepted: z.number().int().nonnegative(),
    duplicates: z.number().int().nonnegative(),
    /** Line numbers in the original file. */
    rejected: z.array(z.object({ line: z.number(), error: z.string() })),
  }),
  updatedAt: z.string(),
});

/** How far an upload got: kept after every chunk, so an interrupted upload continues after the last one. */
export type BatchProgress = z.infer<typeof progressSchema>;
export type FileIdentity = BatchProgress['file'];

export type ProgressCounts = { rowsSent: number; rowsTotal: number; accepted: number; rejected: number };

/** Where an upload reports its progress (progress-report.ts's ProgressBar): declared here, so neither imports the other's code. */
export type ProgressSink = {
  update(counts: ProgressCounts): void;
  interrupt(): void;
  finish(counts: ProgressCounts): void;
};

export function fileIdentity(bytes: Buffer, mtimeMs: number): FileIdentity {
  return { size: bytes.length, mtimeMs, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * The progress file: `<file>.progress.json` next to the batch file where that folder is writable, else
 * in the data dir (a read-only share, a mounted export). An existing one is found in either place.
 */
export class ProgressFile {
  readonly path: string;

  constructor(filePath: string, dataDir: string) {
    const beside = `${filePath}.progress.json`;
    const inDataDir = join(
      dataDir,
      'batches',
      `${basename(filePath)}-${createHash('sha256').update(filePath).digest('hex').slice(0, 12)}.progress.json`,
    );
    if (existsSync(beside)) this.path = beside;
    else if (existsSync(inDataDir)) this.path = inDataDir;
    else this.path = writable(dirname(filePath)) ? beside : inDataDir;
  }

  load(): BatchProgress | undefined {
    if (!existsSync(this.path)) return undefined;
    let parsed: ReturnType<typeof progressSchema.safeParse>;
    try {
      parsed = progressSchema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
    } catch {
      parsed = progressSchema.safeParse(undefined);
    }
    if (!parsed.success) {
      throw new CliError(
        `the progress file ${this.path} is unreadable; run again with --restart to start over`,
      );
    }
    return parsed.data;
  }

  /** Written to a temporary file and renamed, so an interruption mid-write leaves the previous state. */
  save(progress: BatchProgress): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(progress, null, 2)}\n`);
    renameSync(temporary, this.path);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}

function writable(folder: string): boolean {
  try {
    accessSync(folder, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

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

/**
 * A batch id the operator recognises in `events` (source `batch:<id>`): the file's name, when the upload
 * began, and a random tail so two uploads of one file in the same second differ. 1-64 of [A-Za-z0-9._-].
 */
function newBatchId(filePath: string, nowMs: number): string {
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

export type Upload = {
  api: ApiClient;
  name: string;
  file: BatchFile;
  chunks: BatchChunk[];
  strict: boolean;
  progress: BatchProgress;
  store: ProgressFile;
  bar: ProgressSink;
  rowsTotal: number;
  now: () => number;
  cwd: string;
};

/**
 * Chunks on their way at once. Two: the server validates and records one while the next is sent, and the
 * CLI's own work between chunks (progress file, next body) overlaps the server's; more would only queue on
 * the server's one thread.
 */
const CHUNKS_IN_FLIGHT = 2;

/**
 * Sends the chunks not sent yet, two at a time, and counts their answers in file order, saving the progress
 * after each: it always names the chunks answered so far without a gap. Rejected rows are kept with their
 * line in the original file. On failure the saved progress lets a rerun continue; a later chunk accepted
 * before an earlier one failed is sent again then, and its rows come back as accepted before.
 */
export async function uploadChunks(upload: Upload): Promise<void> {
  const { progress, bar } = upload;
  // Saved before the first request too, so that even a failure on chunk 1 is continued under the same batch id.
  upload.store.save(progress);
  bar.update(countsOf(upload));
  const sent = new Map<number, { answer: Promise<ApiAnswer>; originalLine: (line: number) => number }>();
  const send = (index: number) => {
    const chunk = upload.chunks[index];
    if (chunk === undefined || sent.has(index)) return;
    const { body, originalLine } = chunkBody(upload.file, chunk);
    const answer = sendChunk(upload, index, body);
    // Awaited in order below; one still on its way when an earlier chunk fails is not waited for.
    answer.catch(() => {});
    sent.set(index, { answer, originalLine });
  };
  for (let index = progress.chunksDone; index < upload.chunks.length; index++) {
    for (let ahead = index; ahead < index + CHUNKS_IN_FLIGHT; ahead++) send(ahead);
    const chunk = upload.chunks[index]!;
    const { answer: answered, originalLine } = sent.get(index)!;
    const answer = await answered.catch((error: unknown) => {
      bar.interrupt();
      throw error instanceof CliError ? new CliError(`${error.message}\n${resumeHint(upload)}`) : error;
    });
    sent.delete(index);
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
