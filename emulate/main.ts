import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadLocalConfig } from '../functions/commons/settings';
import { ValidationError } from '../functions/core/events/validation-issues';
import { lockDataDir } from '../local/data-dir-lock';
import { loadLocalSecrets, SECRETS_FILE } from '../local/local-secrets';
import { ensurePrivateDir } from '../local/private-files';
import { emulateContext } from './assembly';
import { type Emulator, startEmulator, tablePathUnder } from './emulator';
import type { Emit } from './invoke';

// The emulator's own AWS SDK clients (fauxqs, dynalite) run on this Node; the warning is about 2027.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'];

/** `npm run emulate`: the AWS stack `cdk synth` makes, on this machine (docs/emulate.md). */
async function main(): Promise<void> {
  const config = loadLocalConfig();
  const emit = emitter(config.LOG_LEVEL);
  const emulateDir = join(config.DATA_DIR, 'emulate');
  // Owner only, as npm start keeps DATA_DIR: the table holds people's names and emails.
  ensurePrivateDir(config.DATA_DIR);
  ensurePrivateDir(emulateDir);
  const context = emulateContext(process.env);
  const { credentials, generated } = loadLocalSecrets(config);
  const unlock = lockDataDir(emulateDir);
  console.log(
    'HR → TrueFoundry provisioning: synthesizing the AWS stack (a first start with these sources bundles the functions: ~15 s)…',
  );
  const emulator = await startEmulator({
    context,
    synthAlways: process.env.EMULATE_SYNTH === 'always',
    region: process.env.AWS_REGION?.trim() || 'us-east-1',
    port: config.PORT,
    host: config.HOST,
    tablePath: tablePathUnder(config.DATA_DIR),
    tenant: config.TFY_BASE_URL
      ? { baseUrl: config.TFY_BASE_URL, apiKey: config.TFY_API_KEY ?? '' }
      : undefined,
    credentials,
    logLevel: config.LOG_LEVEL,
    emit,
  }).catch((error: unknown) => {
    unlock();
    throw error;
  });
  const cliEnv = writeCliEnv(emulator, emulateDir, config.DATA_DIR);
  printBanner(emulator, config, generated, credentials, cliEnv);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`${signal}: finishing the invocations in progress (Ctrl-C again to quit at once)…`);
    await emulator.close(10_000);
    unlock();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** JSON lines like the functions' (Powertools Logger), from the emulator itself, at LOG_LEVEL or above. */
function emitter(logLevel: string): Emit {
  const threshold = LEVELS.indexOf(logLevel);
  return (level, message, fields = {}) => {
    if (LEVELS.indexOf(level) < threshold) return;
    console.log(
      JSON.stringify({ level, message, timestamp: new Date().toISOString(), service: 'emulate', ...fields }),
    );
  };
}

/** The variables the operator CLI needs for this emulator, in a file to source. */
function writeCliEnv(emulator: Emulator, emulateDir: string, dataDir: string): string {
  const values = {
    HRP_URL: emulator.url,
    HRP_QUEUE_URL: emulator.outputs.QueueUrl ?? '',
    HRP_DLQ_URL: emulator.outputs.DeadLetterQueueUrl ?? '',
    DATA_DIR: dataDir,
    AWS_REGION: process.env.AWS_REGION?.trim() || 'us-east-1',
    AWS_ENDPOINT_URL_SQS: emulator.endpoints.sqs,
    // Nothing checks them; the SDK only needs some.
    AWS_ACCESS_KEY_ID: 'emulate',
    AWS_SECRET_ACCESS_KEY: 'emulate',
  };
  const path = join(emulateDir, 'cli.env');
  writeFileSync(
    path,
    `${Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  return relative(process.cwd(), path) || path;
}

function printBanner(
  emulator: Emulator,
  config: ReturnType<typeof loadLocalConfig>,
  generated: string[],
  credentials: Record<string, string | undefined>,
  cliEnv: string,
): void {
  const dataDir = relative(process.cwd(), config.DATA_DIR) || '.';
  const routes = emulator.api.routes
    .map((r) => `${r.method} ${r.resource}${r.iam ? ' (IAM)' : ''}`)
    .join(', ');
  const fns = emulator.functions
    .map(
      (f) =>
        `${f.logicalId.replace(/^HrProvisioning|Function[0-9A-F]{8}$/g, '')} ${f.timeoutSeconds} s ${f.memoryMb} MB`,
    )
    .join(', ');
  const source = emulator.eventSources[0];
  const table = emulator.tables[0];
  const secretNames: Record<string, string> = {
    ingestToken: 'INGEST_TOKEN',
    webhookSecret: 'WEBHOOK_SECRET',
    bamboohrWebhookKey: 'BAMBOOHR_WEBHOOK_KEY',
  };
  const lines = [
    `HR → TrueFoundry provisioning: ${emulator.stackName}, emulated`,
    `  listening    ${emulator.url}   (API Gateway stage ${emulator.api.stageName}, also under /${emulator.api.stageName}/: ${routes})`,
    `  assembly     ${emulator.assembly.reused ? 'reused (sources and context unchanged)' : `synthesized in ${(emulator.assembly.synthMs / 1000).toFixed(1)} s`}: ${emulator.assembly.dir}`,
    `  functions    ${fns}: the bundles of the assembly, one child process per instance`,
    emulator.sandbox
      ? `  TrueFoundry  sandbox mode: TFY_BASE_URL is not set, so calls go to the built-in sandbox at ${emulator.sandbox.url} (its users live in memory)`
      : `  TrueFoundry  ${config.TFY_BASE_URL}`,
    `  SQS          fauxqs ${emulator.endpoints.sqs}: ${emulator.outputs.QueueUrl}, dead letters ${emulator.outputs.DeadLetterQueueUrl} (in memory)`,
    source
      ? `  worker       polled in batches of ${source.batchSize}, at most ${source.maxConcurrency} at once${source.reportBatchItemFailures ? ', ReportBatchItemFailures' : ''}`
      : '  worker       no event source mapping',
    `  DynamoDB     dynalite ${emulator.endpoints.dynamodb}: ${table?.name} in ${dataDir}/emulate/dynamodb (survives restarts)`,
    `  Secrets Mgr  GetSecretValue at ${emulator.endpoints.secretsManager}: the TrueFoundry and ingest secrets`,
    `  schedules    ${emulator.schedules.map((rule) => `${rule.logicalId} ${rule.expression}`).join(', ') || 'none'}`,
    `  control      ${emulator.controlUrl}: PUT /__emulate/faults {"crash":["Worker"]}, POST /__emulate/schedules/run`,
  ];
  if (generated.length > 0) {
    lines.push(`  generated    (shown this once; kept in ${dataDir}/${SECRETS_FILE})`);
    for (const name of generated) lines.push(`    ${secretNames[name]}=${credentials[name]}`);
  } else {
    lines.push(`  secrets      from the environment or ${dataDir}/${SECRETS_FILE}`);
  }
  lines.push(
    `  cli          set -a; . ${cliEnv}; set +a   then   npx hr-provisioning send samples/events.jsonl | status <id> | dlq list`,
  );
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`Cannot start: ${error instanceof ValidationError ? error.message : message}`);
  process.exit(1);
});
