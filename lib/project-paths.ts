import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: NodejsFunction bundles from here (package-lock.json, tsconfig.json, node_modules). */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The Lambda handler entry files, relative to the project root. */
export const DEFAULT_ENTRIES = {
  ingest: 'functions/ingest.ts',
  worker: 'functions/worker.ts',
} as const;

export type FunctionEntries = { ingest: string; worker: string };
