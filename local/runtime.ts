import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { buildEngineDeps, buildIngestDeps } from '../functions/commons/build-deps';
import type { LocalConfig } from '../functions/commons/settings';
import {
  createSqliteStateStore,
  purgeExpired,
  releaseAbandonedClaims,
} from '../functions/core/adapters/sqlite';
import { SqliteEventQueue } from '../functions/core/adapters/sqlite/sqlite-event-queue';
import { SqliteWebhookIds } from '../functions/core/adapters/sqlite/sqlite-webhook-ids';
import type { Log, StateStore } from '../functions/core/engine/ports';
import { admit } from '../functions/core/ingest/admission';
import type { IngestCredentials } from '../functions/core/ingest/authenticate';
import { createIngestApp, ingestRouteAccess } from '../functions/core/ingest/ingest-app';
import { compilePolicy, type Policy } from '../functions/core/policy/policy';
import { resolvePolicy } from '../functions/core/policy/policy-file';
import { powertoolsLog } from '../functions/core/privacy/redact';
import { loadRoleMapping, type RoleMapping } from '../functions/core/roles/role-mapping';
import { RateLimiter } from '../functions/core/truefoundry/rate-limiter';
import { type Sandbox, startSandbox } from '../sandbox';
import { adminRouteAccess, handleAdmin } from './admin-routes';
import { lockDataDir } from './data-dir-lock';
import { type LocalDatabase, openLocalDatabase } from './database';
import { GroupCommit } from './group-commit';
import { listen } from './http-server';
import { loadLocalSecrets, SECRETS_FILE } from './local-secrets';
import { ensurePrivateDir, ensurePrivateFile, octal, type Tightened } from './private-files';
import { startScheduler } from './scheduler';
import { startWalCheckpointer } from './wal-checkpointer';
import { WorkerPool } from './worker-pool';

export const DEFAULT_ROLE_MAPPING_FILE = 'config/role-mapping.json';

export type Runtime = {
  url: string;
  /** Set in sandbox mode: the TrueFoundry stand-in this runtime talks to. */
  sandbox: Sandbox | undefined;
  credentials: IngestCredentials;
  generatedSecrets: string[];
  roleMappingFile: string;
  /** The policy in force: its file, or the defaults worked out from the role mapping. */
  policy: Policy;
  store: StateStore;
  queue: SqliteEventQueue;
  /** Stops taking requests and work, lets in-flight events finish (up to `graceMs`), closes the database. */
  close(graceMs?: number): Promise<void>;
};

/**
 * The whole pipeline in one process: the ingest routes over HTTP, the durable embedded FIFO queue, the
 * worker pool and the state store, all in DATA_DIR — the same ingest app and convergence engine as on AWS.
 */
export async function startRuntime(config: LocalConfig, log: Log = loggerFor(config)): Promise<Runtime> {
  const roleMappingFile = resolve(config.ROLE_MAPPING_FILE ?? DEFAULT_ROLE_MAPPING_FILE);
  const roleMapping = readRoleMapping(roleMappingFile);
  const policy = readPolicy(config.POLICY_FILE, roleMapping, roleMappingFile);
  // Owner only (private-files.ts): tightened before anything is read or written there, and reported.
  const tightened = [
    ensurePrivateDir(config.DATA_DIR),
    ensurePrivateFile(join(config.DATA_DIR, SECRETS_FILE), false),
  ].filter((t): t is Tightened => t !== undefined);
  const { credentials, generated } = loadLocalSecrets(config);
  const unlock = lockDataDir(config.DATA_DIR);
  const db = openLocalDatabase(join(config.DATA_DIR, 'pipeline.db'), tightened);
  reportTightened(tightened, log);
  const store = createSqliteStateStore(db, { retentionDays: config.RETENTION_DAYS });
  const released = releaseAbandonedClaims(db);
  if (released > 0)
    log.info('released step claims of a previous process that stopped mid-step', { released });
  // Ingest's writes: one transaction and one sync per group of concurrent requests, each answered after it.
  const commits = new GroupCommit(db);
  // The WAL is copied back into the database file off the request thread (wal-checkpointer.ts).
  const checkpointer = startWalCheckpointer(db);
  const queue = new SqliteEventQueue(db, {
    afterCommit: commits.afterCommit,
    visibilityTimeoutMs: config.VISIBILITY_TIMEOUT_SECONDS * 1000,
    maxReceiveCount: config.MAX_RECEIVE_COUNT,
  });

  const sandbox = config.TFY_BASE_URL ? undefined : await startSandbox({ port: 0 });
  const tenant = sandbox
    ? { baseUrl: sandbox.url, apiKey: sandbox.apiKey }
    : { baseUrl: config.TFY_BASE_URL ?? '', apiKey: config.TFY_API_KEY ?? '' };
  // One pacer for the tenant's one rate: the workers' calls and ingest's reads (previews, reconciliation).
  let pacer: RateLimiter | undefined;
  const trueFoundry = {
    trueFoundryCredentials: async () => tenant,
    rateLimiter: (rate: { requestsPerSecond: number }) => {
      pacer ??= new RateLimiter(rate);
      return pacer;
    },
    roleMapping,
  };
  const workers = new WorkerPool(queue, {
    concurrency: config.WORKER_CONCURRENCY,
    deps: buildEngineDeps(config, {
      store,
      ...trueFoundry,
      policy,
      log,
      visibilityTimeoutMs: config.VISIBILITY_TIMEOUT_SECONDS * 1000,
    }),
    log,
  });

  const ingest = createIngestApp({
    ...buildIngestDeps(config, {
      store,
      queue,
      // The person's queued messages and dead letters go too, before their records (privacy/forget-person.ts).
      personQueue: queue,
      credentials: async () => credentials,
      webhookIds: new SqliteWebhookIds(db),
      policy,
      log,
      trueFoundry,
    }),
    unitOfWork: commits.run,
  });
  const admin = {
    queue,
    events: store.events,
    credentials: async () => credentials,
    health: () => ({ mode: sandbox ? 'sandbox' : 'tenant', queue: queue.depth(), workersBusy: workers.busy }),
  };
  const { server, url } = await listen(
    {
      admit: async (head) =>
        admit(
          head,
          adminRouteAccess(head.method, head.path) ?? ingestRouteAccess(head.method, head.path),
          credentials,
        ),
      handle: async (request) => (await handleAdmin(request, admin)) ?? ingest(request),
    },
    config.PORT,
    config.HOST,
  );
  workers.start();
  // Effective dates: scheduled events go to the queue when due (and any that fell due while stopped, now).
  const scheduler = startScheduler({ store, queue, log });
  // At start (a runtime stopped for a while has expired rows waiting) and hourly.
  const purgeNow = () => {
    purgeExpired(db, Date.now());
    queue.purgeExpiredDeadLetters(Date.now());
  };
  purgeNow();
  const purge = setInterval(purgeNow, 60 * 60_000);
  purge.unref();

  return {
    url,
    sandbox,
    credentials,
    generatedSecrets: generated,
    roleMappingFile,
    policy,
    store,
    queue,
    close: async (graceMs = 10_000) => {
      clearInterval(purge);
      await scheduler.stop();
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      const { unfinished } = await workers.stop(graceMs);
      if (unfinished > 0)
        log.warn('stopping with events in progress; they are redelivered at the next start', { unfinished });
      await closed;
      queue.close();
      // Before the database: its last connection to close checkpoints the WAL whole and removes it.
      await checkpointer?.stop();
      closeDatabase(db);
      commits.close();
      unlock();
      await sandbox?.close();
    },
  };
}

function readRoleMapping(path: string): RoleMapping {
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the role mapping ${path}: ${(error as Error).message}`);
  }
  return loadRoleMapping(content, path);
}

/**
 * The policy file, checked like the role mapping and against it; none set: the mapping's roles are the
 * ceiling. Not picked up from config/policy.json on its own: the shipped file is an example whose domains and
 * protected accounts are example.com, so it is a choice to make, not a default to stumble into.
 */
function readPolicy(file: string | undefined, mapping: RoleMapping, mappingFile: string): Policy {
  if (file === undefined) return compilePolicy(resolvePolicy(undefined, mapping));
  const path = resolve(file);
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the policy ${path}: ${(error as Error).message}`);
  }
  const policy = { content, name: shortPath(path) };
  return compilePolicy(resolvePolicy(policy, mapping, `the role mapping ${shortPath(mappingFile)}`));
}

/** Inside the working directory relative (as the banner shows the role mapping), elsewhere absolute. */
function shortPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside === '' || inside.startsWith('..') ? path : inside;
}

function closeDatabase(db: LocalDatabase): void {
  if (db.open) db.close();
}

function loggerFor(config: LocalConfig): Log {
  return powertoolsLog(new Logger({ serviceName: 'hr-provisioning', logLevel: config.LOG_LEVEL }), {
    logEmails: config.LOG_EMAILS,
  });
}

/** Files an older version left readable by others, now owner-only (or that could not be made so). */
function reportTightened(tightened: readonly Tightened[], log: Log): void {
  for (const t of tightened) {
    if ('failed' in t) {
      log.warn('a data file is readable by other users and could not be made private', {
        path: t.path,
        mode: octal(t.from),
        error: t.failed,
      });
    } else {
      log.warn('made a data file private (it was readable by other users)', {
        path: t.path,
        from: octal(t.from),
        to: octal(t.to),
      });
    }
  }
}
