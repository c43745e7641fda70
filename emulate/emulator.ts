import { join } from 'node:path';
import type { IngestCredentials } from '../functions/core/ingest/authenticate';
import { type Sandbox, startSandbox } from '../sandbox';
import { startApiGateway } from './api-gateway';
import { type ApiDefinition, apiOf } from './api-routes';
import { type CloudAssembly, type Context, synthesize } from './assembly';
import { EmulatedStack } from './cloudformation';
import { startControlEndpoint } from './control-endpoint';
import { createTables, type EmulatedTable, startDynamoDb } from './dynamodb';
import { eventSourcesOf, type SqsEventSource, SqsPoller } from './event-source-mapping';
import { compileChildEntry, type FunctionDefinition, functionsOf } from './function-definitions';
import { type Emit, LambdaFunction } from './invoke';
import { type ScheduledRule, Scheduler, schedulesOf } from './schedules';
import { startSecretsEndpoint } from './secrets-endpoint';
import { createQueues, FAUXQS_ACCOUNT, startSqs } from './sqs';

export type EmulatorOptions = {
  context: Context;
  /** Synthesize even when an assembly of the same inputs exists. */
  synthAlways: boolean;
  region: string;
  port: number;
  host: string;
  /** DynamoDB's LevelDB folder; undefined: in memory. */
  tablePath: string | undefined;
  /** The TrueFoundry tenant; undefined: sandbox mode. */
  tenant: { baseUrl: string; apiKey: string } | undefined;
  credentials: IngestCredentials;
  /** POWERTOOLS_LOG_LEVEL for the functions. */
  logLevel: string;
  emit: Emit;
};

export type Emulator = {
  url: string;
  assembly: CloudAssembly;
  stackName: string;
  sandbox: Sandbox | undefined;
  functions: FunctionDefinition[];
  api: ApiDefinition;
  eventSources: SqsEventSource[];
  schedules: ScheduledRule[];
  /** The emulator's own switches: Lambda faults, running the schedules now. */
  controlUrl: string;
  /** The stack outputs that name queues: QueueUrl, DeadLetterQueueUrl. */
  outputs: Record<string, string>;
  endpoints: { sqs: string; dynamodb: string; secretsManager: string };
  tables: EmulatedTable[];
  /** Stops taking requests and polling, lets invocations in progress finish (up to `graceMs`), stops all. */
  close(graceMs?: number): Promise<void>;
};

/**
 * The synthesized stack on this machine: its queues on fauxqs, its table on dynalite, its secrets on a
 * local endpoint, its functions' bundles in child processes, its REST API and its SQS event source. Every
 * name, limit and setting comes from the template; only the endpoints are local.
 */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const { region, emit } = options;
  const assembly = await synthesize(options.context, { always: options.synthAlways });
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await Promise.resolve(close()).catch(() => {});
  };
  try {
    const [sqs, dynamodb, sandbox] = await Promise.all([
      startSqs(region),
      startDynamoDb(region, options.tablePath),
      options.tenant ? undefined : startSandbox({ port: 0 }),
    ]);
    closers.push(sqs.close, dynamodb.close, () => sandbox?.close());
    const stack = new EmulatedStack(assembly.template, {
      stackName: assembly.stackName,
      region,
      account: FAUXQS_ACCOUNT,
      sqsOrigin: sqs.origin,
    });
    const queueUrls = await createQueues(sqs, stack);
    const tables = await createTables(dynamodb, stack);

    const tenant = options.tenant ?? { baseUrl: sandbox?.url ?? '', apiKey: sandbox?.apiKey ?? '' };
    const secretArn = (output: string) => {
      const arn = stack.output(output);
      if (!arn) throw new Error(`the stack has no output ${output}`);
      return arn;
    };
    const secrets = await startSecretsEndpoint([
      { arn: secretArn('TrueFoundrySecretArn'), value: JSON.stringify(tenant) },
      { arn: secretArn('IngestSecretArn'), value: JSON.stringify(options.credentials) },
    ]);
    closers.push(secrets.close);

    const child = compileChildEntry();
    closers.push(child.remove);
    const endpoints = { sqs: sqs.origin, dynamodb: dynamodb.endpoint, secretsManager: secrets.url };
    const runtime = {
      childEntry: child.path,
      environment: functionEnvironment(region, endpoints),
      overrides: { POWERTOOLS_LOG_LEVEL: options.logLevel },
      emit,
    };
    const definitions = functionsOf(stack, assembly);
    const eventSources = eventSourcesOf(stack, (arn) => {
      const queue = [...queueUrls.keys()].find((id) => stack.getAtt(id, 'Arn') === arn);
      if (!queue) throw new Error(`no queue of the stack has the ARN ${arn}`);
      return queueUrls.get(queue) ?? '';
    });
    const functions = new Map<string, LambdaFunction>();
    for (const [logicalId, definition] of definitions) {
      // An event source mapping's function scales to its maximum concurrency; API functions to ten.
      const source = eventSources.find((s) => s.functionLogicalId === logicalId);
      functions.set(logicalId, new LambdaFunction(definition, runtime, source?.maxConcurrency ?? 10));
    }
    const functionOf = (logicalId: string) => {
      const fn = functions.get(logicalId);
      if (!fn) throw new Error(`the template has no function ${logicalId}`);
      return fn;
    };
    closers.push(() => Promise.all([...functions.values()].map((fn) => fn.close(0))).then(() => {}));

    const pollers = eventSources.map(
      (source) =>
        new SqsPoller(
          source,
          sqs.client,
          (event) => functionOf(source.functionLogicalId).invoke(event),
          region,
          emit,
        ),
    );
    const scheduler = new Scheduler(
      schedulesOf(stack),
      (logicalId, event) => functionOf(logicalId).invoke(event),
      emit,
    );
    closers.push(() => scheduler.stop());
    const control = await startControlEndpoint(functions, scheduler);
    closers.push(control.close);
    const api = apiOf(stack);
    const { server, url } = await startApiGateway(
      {
        api,
        region,
        account: FAUXQS_ACCOUNT,
        invoke: (logicalId, event) => functionOf(logicalId).invoke(event),
        operatorToken: async () => options.credentials.ingestToken,
        emit,
      },
      options.port,
      options.host,
    );
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        }),
    );
    for (const poller of pollers) poller.start();
    scheduler.start();

    const outputs: Record<string, string> = {};
    for (const name of ['QueueUrl', 'DeadLetterQueueUrl', 'TableName']) {
      const value = stack.output(name);
      if (value !== undefined) outputs[name] = value;
    }
    return {
      url,
      assembly,
      stackName: assembly.stackName,
      sandbox,
      functions: [...definitions.values()],
      api,
      eventSources,
      schedules: scheduler.rules,
      controlUrl: control.url,
      outputs,
      endpoints,
      tables,
      close: async (graceMs = 10_000) => {
        server.close();
        server.closeIdleConnections();
        scheduler.stop();
        // Pollers stop receiving; invocations in progress get the grace period, then are killed.
        await Promise.all([
          ...pollers.map((poller) => poller.stop()),
          ...[...functions.values()].map((fn) => fn.close(graceMs)),
        ]);
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** What Lambda's environment provides besides the function's variables, pointed at the local endpoints. */
function functionEnvironment(
  region: string,
  endpoints: { sqs: string; dynamodb: string; secretsManager: string },
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    // Lambda hands the execution role's session credentials; nothing here checks them.
    AWS_ACCESS_KEY_ID: 'ASIAEMULATEEXAMPLE00',
    AWS_SECRET_ACCESS_KEY: 'emulate',
    AWS_SESSION_TOKEN: 'emulate',
    // The AWS SDK for JavaScript v3 reads these (service-specific endpoint configuration).
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    // Lambda runs nodejs22.x; here the bundles run on this machine's Node (20), which the SDK warns about.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

export const tablePathUnder = (dataDir: string) => join(dataDir, 'emulate', 'dynamodb');
