import { createHash } from 'node:crypto';
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
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { CliError } from '../cli-error';

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
