import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { LocalDatabase } from './database';

/** How often the checkpointer copies the WAL back into the database file. */
const DEFAULT_INTERVAL_MS = 200;
/**
 * The runtime's own connection checkpoints only past this many WAL pages (32 MiB; SQLite's default is
 * 1,000): a safety net for when the checkpointer falls behind, and the point where the WAL is started over
 * (a checkpoint that runs beside the writer rarely finds the WAL wholly copied, so only the writer's resets it).
 */
const WRITER_CHECKPOINT_PAGES = 8_192;

// Plain CommonJS, evaluated in the worker: no TypeScript loader there, only the SQLite driver.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy (the writer is checkpointing itself): the next turn catches up.
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export type WalCheckpointer = { stop(): Promise<void> };

/**
 * Copies the WAL back into the database file from a worker thread, on a connection of its own. SQLite does
 * it by itself every 1,000 WAL pages, inside the COMMIT that crosses the mark: on the one thread that also
 * answers requests, with two syncs, several times a second under ingest load, each stalling every request in
 * flight. A passive checkpoint beside the writer blocks nobody. The runtime's connection keeps a checkpoint
 * of its own past WRITER_CHECKPOINT_PAGES, which also starts the WAL over.
 */
export function startWalCheckpointer(
  db: LocalDatabase,
  intervalMs: number = DEFAULT_INTERVAL_MS,
): WalCheckpointer | undefined {
  if (db.memory) return undefined;
  db.pragma(`wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // The runtime's own flags (the TypeScript loader) are not needed to run the worker's plain script.
    execArgv: [],
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      path: db.name,
      intervalMs,
    },
  });
  // A checkpointer that failed leaves the writer to checkpoint as often as SQLite would by itself.
  worker.on('error', () => {
    if (db.open) db.pragma('wal_autocheckpoint = 1000');
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.unref();
  return {
    stop: async () => {
      worker.postMessage('stop');
      await exited;
    },
  };
}
