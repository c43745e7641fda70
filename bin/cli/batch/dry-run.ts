import { type PreviewSummary, SUMMARY_KEYS } from '../../../functions/core/engine/preview';
import type { PreviewPlan, PreviewRejection } from '../../../functions/core/ingest/preview-response';
import type { ApiClient } from '../http/api-client';
import { problemOf, unexpectedAnswer } from '../http/api-client';
import { clip, field, formatTable } from '../output';
import { type BatchChunk, type BatchFile, CONTENT_TYPES, chunkBody } from './batch-file';

/*
 * `batch FILE --dry-run`: the file to POST /batch?dryRun=true, in chunks the route plans in one request each,
 * and the previews merged back, every line as the file has it. No progress file: nothing is recorded, so
 * there is nothing to resume; a rerun simply previews again against TrueFoundry as it is then.
 */

/** The route's answer, as the CLI reads it; the server's own types, so drift fails tsc. */
export type DryRunAnswer = {
  dryRun: true;
  plans: PreviewPlan[];
  rejected: PreviewRejection[];
  summary: PreviewSummary;
};

/**
 * One batch id for every chunk, so rows without an id get derived ids as one file would. Never recorded;
 * the real upload names its own batch, so its derived ids differ from the preview's.
 */
const DRY_RUN_BATCH_ID = 'dry-run';

/** Previews every chunk in order and merges the answers; lines are the file's, not the chunk's. */
export async function previewChunks(options: {
  api: ApiClient;
  file: BatchFile;
  chunks: readonly BatchChunk[];
  strict: boolean;
}): Promise<DryRunAnswer> {
  const merged: DryRunAnswer = {
    dryRun: true,
    plans: [],
    rejected: [],
    summary: Object.fromEntries(SUMMARY_KEYS.map((key) => [key, 0])) as PreviewSummary,
  };
  for (const [index, chunk] of options.chunks.entries()) {
    const { body, originalLine } = chunkBody(options.file, chunk);
    const answer = await options.api.send({
      method: 'POST',
      path: '/batch',
      query: {
        dryRun: 'true',
        batchId: DRY_RUN_BATCH_ID,
        ...(options.strict ? { strict: 'true' } : {}),
      },
      body,
      contentType: CONTENT_TYPES[options.file.format],
    });
    const lineOf = <T extends { line?: number }>(row: T): T =>
      row.line === undefined ? row : { ...row, line: originalLine(row.line) };
    if (answer.status === 422 && options.strict) {
      // Strict: this chunk was refused whole (an id recorded for something else); its rows say why.
      merged.rejected.push(...(problemOf(answer.body).rejected ?? []).map(lineOf));
      continue;
    }
    const what = `previewing chunk ${index + 1} of ${options.chunks.length}`;
    if (answer.status !== 200) throw unexpectedAnswer(what, answer);
    const preview = answer.body as DryRunAnswer;
    merged.plans.push(...preview.plans.map(lineOf));
    merged.rejected.push(...preview.rejected.map(lineOf));
    for (const key of SUMMARY_KEYS) merged.summary[key] += preview.summary[key];
  }
  merged.rejected.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return merged;
}

/** The preview as the operator reads it: a table of plans, the rejected rows, and the summary. */
export function dryRunReport(name: string, preview: DryRunAnswer): string[] {
  const table = formatTable(
    ['LINE', 'ID', 'EMAIL', 'ACTIONS', 'NOTE'],
    preview.plans.map((plan) => [
      String(plan.line ?? ''),
      plan.id,
      plan.email,
      plan.actions.length > 0 ? plan.actions.join(', ') : 'no-op',
      clip(plan.note ?? '', 80),
    ]),
  );
  const { summary } = preview;
  return [
    `${name}: preview (dry run): nothing was recorded, queued or written to TrueFoundry`,
    ...(preview.plans.length > 0 ? table : ['no row would be applied']),
    ...(preview.rejected.length > 0
      ? [
          `rejected rows (line in ${name}: error)`,
          ...preview.rejected.map((row) => `  line ${row.line ?? '?'}: ${field(row.error)}`),
        ]
      : []),
    `summary: ${SUMMARY_KEYS.map((key) => `${key} ${summary[key]}`).join(', ')}; rejected ${preview.rejected.length}`,
  ];
}
