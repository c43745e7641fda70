import { parseArgs } from 'node:util';
import { MAX_BATCH_ROWS } from '../../../functions/core/ingest/http';
import { MAX_PREVIEW_EVENTS } from '../../../functions/core/ingest/preview-response';
import { GLOBAL_OPTIONS, noMoreWords, parseCommandArgs, wholeNumber } from '../arguments';
import { chunkBatch, readBatchFile, rowsRejectedByServerRules } from '../batch/batch-file';
import { dryRunReport, previewChunks } from '../batch/dry-run';
import { batchReport, ProgressBar, rejectedRows } from '../batch/progress-report';
import { fileIdentity, ProgressFile, resumeOrStart, uploadChunks } from '../batch/resumable-upload';
import { type CliContext, CliError, EXIT_OK, EXIT_REJECTED_ROWS, readInputFile } from '../cli-io';
import { ApiClient } from '../http/api-client';
import { resolveTarget } from '../http/target';
import { writeLines } from '../output';

const BATCH_OPTIONS = {
  ...GLOBAL_OPTIONS,
  strict: { type: 'boolean' },
  'chunk-rows': { type: 'string' },
  restart: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const DEFAULT_CHUNK_ROWS = 500;

/**
 * `batch <file>`: a CSV or JSON Lines file of any size to POST /batch, in resumable chunks. With `--dry-run`
 * a preview instead (POST /batch?dryRun=true, batch/dry-run.ts): what would be written, nothing recorded.
 */
export async function batchCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    () => parseArgs({ args: argv, options: BATCH_OPTIONS, allowPositionals: true }),
    'batch',
  );
  const [, name, ...rest] = positionals;
  if (!name) throw new CliError('name the file to upload: hr-provisioning batch <file.csv|file.jsonl>');
  noMoreWords(rest, 'batch');
  const dryRun = values['dry-run'] === true;
  if (values.json === true && !dryRun) throw new CliError('--json goes with --dry-run');
  if (dryRun && values.restart === true)
    throw new CliError('--restart goes without --dry-run: a preview keeps no progress');
  // A preview plans at most MAX_PREVIEW_EVENTS rows per request (each is a TrueFoundry read).
  const chunkRows = wholeNumber(values['chunk-rows'], 'chunk-rows', {
    min: 1,
    max: dryRun ? MAX_PREVIEW_EVENTS : MAX_BATCH_ROWS,
    fallback: dryRun ? MAX_PREVIEW_EVENTS : DEFAULT_CHUNK_ROWS,
  });
  const target = resolveTarget(values, ctx);
  const api = new ApiClient(target, ctx);
  const input = await readInputFile(name, ctx.cwd);
  const { file, text } = readBatchFile(name, input.bytes);
  const rowsTotal = file.records.length;

  const strict = values.strict === true;
  if (strict) {
    const rejected = rowsRejectedByServerRules(name, file.format, text, ctx.now());
    if (rejected.length > 0) {
      writeLines(ctx.stdout, [
        `${name}: ${rejected.length} of ${rowsTotal} rows are invalid and --strict is on: nothing was sent`,
        ...rejectedRows(name, rejected),
      ]);
      return EXIT_REJECTED_ROWS;
    }
  }

  if (dryRun) {
    const preview = await previewChunks({ api, file, chunks: chunkBatch(file, chunkRows, name), strict });
    writeLines(ctx.stdout, values.json ? [JSON.stringify(preview, null, 2)] : dryRunReport(name, preview));
    return preview.rejected.length > 0 ? EXIT_REJECTED_ROWS : EXIT_OK;
  }

  const store = new ProgressFile(input.path, target.dataDir);
  const { progress, notes } = resumeOrStart({
    store,
    name,
    filePath: input.path,
    identity: fileIdentity(input.bytes, input.mtimeMs),
    chunkRows,
    chunkRowsGiven: values['chunk-rows'] !== undefined,
    restart: values.restart === true,
    nowMs: ctx.now(),
    cwd: ctx.cwd,
  });
  writeLines(ctx.stderr, notes);
  const chunks = chunkBatch(file, progress.chunkRows, name);
  progress.chunks = chunks.length;
  await uploadChunks({
    api,
    name,
    file,
    chunks,
    strict,
    progress,
    store,
    bar: new ProgressBar(ctx.stderr, ctx.now, progress.totals.rowsSent),
    rowsTotal,
    now: ctx.now,
    cwd: ctx.cwd,
  });
  // Done: a rerun is a new upload (its rows are recognised by id and not processed twice).
  store.remove();
  writeLines(ctx.stdout, batchReport(name, progress, rowsTotal));
  return progress.totals.rejected.length > 0 ? EXIT_REJECTED_ROWS : EXIT_OK;
}
