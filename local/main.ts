import { relative } from 'node:path';
import { loadLocalConfig } from '../functions/commons/settings';
import { ValidationError } from '../functions/core/events/validation-issues';
import { describePolicy } from '../functions/core/policy/policy';
import { LOCAL_ROUTES } from './admin-routes';
import { SECRETS_FILE } from './local-secrets';
import { type Runtime, startRuntime } from './runtime';

// The AWS SDK warns on Node 20 that its 2027 releases need Node 22; the local runtime talks to no AWS service.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** `npm start`: the whole pipeline in this process. */
async function main(): Promise<void> {
  const config = loadLocalConfig();
  const runtime = await startRuntime(config);
  printBanner(runtime, config);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`${signal}: finishing the events in progress (Ctrl-C again to quit at once)…`);
    await runtime.close(10_000);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

function printBanner(runtime: Runtime, config: ReturnType<typeof loadLocalConfig>): void {
  const dataDir = relative(process.cwd(), config.DATA_DIR) || '.';
  const lines = [
    'HR → TrueFoundry provisioning: local runtime',
    `  listening    ${runtime.url}`,
    ...LOCAL_ROUTES.map(
      (r, i) =>
        `  ${(i === 0 ? 'routes' : '').padEnd(13)}${`${r.method} ${r.path}`.padEnd(24)} ${r.description}`,
    ),
    runtime.sandbox
      ? `  TrueFoundry  sandbox mode: TFY_BASE_URL is not set, so calls go to the built-in sandbox at ${runtime.sandbox.url} (its users live in memory)`
      : `  TrueFoundry  ${config.TFY_BASE_URL}`,
    `  data         ${dataDir}/pipeline.db (queue and state; survives restarts)`,
    `  role rules   ${relative(process.cwd(), runtime.roleMappingFile)}`,
    `  policy       ${describePolicy(runtime.policy)}`,
    `  workers      ${config.WORKER_CONCURRENCY} in parallel, at most ${config.TFY_RATE_LIMIT_RPS} TrueFoundry calls/s, ${config.TFY_PROVISION_MODE} mode`,
  ];
  const secretNames = {
    ingestToken: 'INGEST_TOKEN',
    webhookSecret: 'WEBHOOK_SECRET',
    bamboohrWebhookKey: 'BAMBOOHR_WEBHOOK_KEY',
  };
  if (runtime.generatedSecrets.length > 0) {
    lines.push(`  generated    (shown this once; kept in ${dataDir}/${SECRETS_FILE})`);
    for (const name of runtime.generatedSecrets) {
      const key = name as keyof typeof secretNames;
      lines.push(`    ${secretNames[key]}=${runtime.credentials[key]}`);
    }
  } else {
    lines.push(`  secrets      from the environment or ${dataDir}/${SECRETS_FILE}`);
  }
  lines.push(
    '  try          npx hr-provisioning send samples/events.jsonl   (the CLI finds the token itself)',
  );
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  if (error instanceof ValidationError) {
    console.error(`Cannot start: ${error.message}`);
  } else {
    console.error(`Cannot start: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
