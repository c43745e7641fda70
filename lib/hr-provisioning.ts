import { isAbsolute, resolve } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AppSecret } from './app-secret';
import type { HrProvisioningConfig } from './config';
import { EventQueues } from './event-queues';
import { IngestApi } from './ingest-api';
import { Monitoring } from './monitoring';
import { DEFAULT_ENTRIES, type FunctionEntries, PROJECT_ROOT } from './project-paths';
import { ServiceFunction } from './service-function';
import { StateTable } from './state-table';

/** API Gateway gives up on an integration after 29 seconds; the ingest λ gets no longer. */
const INGEST_TIMEOUT = Duration.seconds(29);

/** TrueFoundry call timeout: at most 20 s, and short enough that a few attempts fit in one invocation. */
const MAX_TFY_TIMEOUT_MS = 20_000;
/**
 * Per TrueFoundry read of a preview or a reconcile from the ingest and operator λs: well inside their 29 s, so
 * a slow tenant answers the operator with an error rather than API Gateway with a timeout.
 */
const INGEST_TFY_TIMEOUT_MS = 5_000;

export interface HrProvisioningProps {
  /** The validated configuration (`readConfig`). */
  readonly config: HrProvisioningConfig;
  /** Handler entry files, relative to the project root; defaults to functions/ingest.ts and functions/worker.ts. */
  readonly entries?: Partial<FunctionEntries>;
}

/**
 * HR lifecycle events to TrueFoundry users, on AWS:
 *
 *   API Gateway → ingest λ → SQS FIFO (group = employee) → worker λ → TrueFoundry
 *                    ↓                 ↓ maxReceiveCount
 *               DynamoDB state    dead-letter queue → alarm
 *
 * Each function gets its own role holding exactly what its handler calls, on exactly the resources it
 * touches; each reads only its own secret.
 */
export class HrProvisioning extends Construct {
  readonly table: StateTable;
  readonly queues: EventQueues;
  readonly tfySecret: AppSecret;
  readonly ingestSecret: AppSecret;
  readonly ingest: ServiceFunction;
  readonly operator: ServiceFunction;
  readonly worker: ServiceFunction;
  readonly api: IngestApi;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: HrProvisioningProps) {
    super(scope, id);
    const { config } = props;
    const entries = { ...DEFAULT_ENTRIES, ...props.entries };
    const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = config.logRetentionDays as RetentionDays;
    const workerTimeout = Duration.seconds(config.workerTimeoutSeconds);
    const serviceName = (fn: string) => `hr-provisioning-${fn}-${config.stage}`;
    const logsKmsKey = config.logsKmsKeyArn
      ? Key.fromKeyArn(this, 'LogsKey', config.logsKmsKeyArn)
      : undefined;

    // State and queues.
    this.table = new StateTable(this, 'State', { removalPolicy });
    this.queues = new EventQueues(this, 'Events', {
      workerTimeout,
      maxReceiveCount: config.maxReceiveCount,
      removalPolicy,
    });

    // Secrets: created with a placeholder for the operator to fill in, or imported by ARN.
    this.tfySecret = new AppSecret(this, 'TrueFoundrySecret', {
      description: `HR provisioning (${config.stage}): TrueFoundry { baseUrl, apiKey }. Replace both values.`,
      existingSecretArn: config.tfySecretArn,
      existingSecretKmsKeyArn: config.tfySecretKmsKeyArn,
      // Not a URL on purpose: until the operator sets it, the worker fails with "baseUrl must be the tenant URL".
      placeholder: { baseUrl: 'REPLACE_WITH_TENANT_URL' },
      generateKey: 'apiKey',
      removalPolicy,
      noRotationReason:
        'The TrueFoundry API key is issued in the TrueFoundry console; no Lambda can mint a new one, so the operator rotates it there and updates the secret (docs/deploy.md)',
    });
    this.ingestSecret = new AppSecret(this, 'IngestSecret', {
      description: `HR provisioning (${config.stage}): ingest credentials { webhookSecret?, ingestToken?, bamboohrWebhookKey?, bamboohrApiKey? }.`,
      existingSecretArn: config.ingestSecretArn,
      existingSecretKmsKeyArn: config.ingestSecretKmsKeyArn,
      placeholder: {},
      // A usable bearer token from the start; webhook keys are added as HR systems are connected.
      generateKey: 'ingestToken',
      removalPolicy,
      noRotationReason:
        'The webhook keys are shared with the HR systems (BambooHR, senders of Standard Webhooks); rotating them means changing the sender at the same moment, which the operator does by hand',
    });

    // The ingest λ: authenticates, validates and enqueues; never writes to TrueFoundry (previews read it). The
    // operator λ is the same app under another role, behind the IAM routes: reads and purges that the ingest
    // role may not do.
    const appEnvironment = {
      TABLE_NAME: this.table.table.tableName,
      QUEUE_URL: this.queues.queue.queueUrl,
      INGEST_SECRET_ARN: this.ingestSecret.secret.secretArn,
      RETENTION_DAYS: String(config.retentionDays),
      ...(config.logEmails ? { LOG_EMAILS: 'true' } : {}),
      ...(config.bamboohrCompanyDomain ? { BAMBOOHR_COMPANY_DOMAIN: config.bamboohrCompanyDomain } : {}),
      ...(config.bamboohrFieldLabels
        ? { BAMBOOHR_FIELD_LABELS: JSON.stringify(config.bamboohrFieldLabels) }
        : {}),
      // BambooHR's hire and termination dates are days: 00:00 of the day in this zone (effective dates).
      ...(config.bamboohrTimeZone ? { BAMBOOHR_TIME_ZONE: config.bamboohrTimeZone } : {}),
      // Previews (`?dryRun=true`) and reconcile read TrueFoundry with the worker's planner and settings, at
      // the tenant's one rate (shared through the table); they never write to it (functions/core/engine/preview.ts).
      TFY_SECRET_ARN: this.tfySecret.secret.secretArn,
      TFY_PROVISION_MODE: config.tfyProvisionMode,
      ...(config.tfyAcceptInviteUrl ? { TFY_ACCEPT_INVITE_URL: config.tfyAcceptInviteUrl } : {}),
      ...(config.tfyTenantName ? { TFY_TENANT_NAME: config.tfyTenantName } : {}),
      TFY_DELETE_AFTER_OFFBOARD: String(config.tfyDeleteAfterOffboard),
      TFY_RATE_LIMIT_RPS: String(config.tfyRateLimitRps),
      TFY_TIMEOUT_MS: String(INGEST_TFY_TIMEOUT_MS),
    };
    // The policy is part of the code too, resolved against the role mapping at synth: the ingest λ refuses
    // by it early, the worker checks it again before each write.
    const policyDefine = { 'process.env.POLICY_JSON': JSON.stringify(JSON.stringify(config.policy)) };
    // The role mapping too: a preview plans the roles the worker would derive.
    const roleMappingDefine = {
      'process.env.ROLE_MAPPING_JSON': JSON.stringify(JSON.stringify(config.roleMapping)),
    };
    this.ingest = new ServiceFunction(this, 'Ingest', {
      entry: resolveEntry(entries.ingest),
      description: `HR provisioning (${config.stage}): accepts HR events and enqueues them`,
      memorySize: config.ingestMemoryMb,
      timeout: INGEST_TIMEOUT,
      serviceName: serviceName('ingest'),
      environment: appEnvironment,
      define: { ...roleMappingDefine, ...policyDefine },
      logRetention,
      ...(logsKmsKey ? { logsKmsKey } : {}),
      removalPolicy,
    });
    // Event items only (and the acceptance counter and webhook-id records), by their partition key: a
    // leaked ingest credential can neither read nor rewrite people, marks or the step ledger.
    const ingestItems = {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...INGEST_LEADING_KEYS] },
    };
    this.ingest.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [this.table.table.tableArn],
        conditions: ingestItems,
      }),
    );
    // A BambooHR termination or hire date removed or moved cancels the person's pending events: the ingest λ
    // finds them in the byDueTime index (keys and the person key only) and reads them by key.
    this.ingest.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:Query'], resources: [this.table.dueIndexArn] }),
    );
    this.ingest.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:BatchGetItem'],
        resources: [this.table.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['EVENT#*'] } },
      }),
    );
    this.operator = new ServiceFunction(this, 'Operator', {
      entry: resolveEntry(entries.ingest),
      description: `HR provisioning (${config.stage}): operator routes (event status, forget)`,
      memorySize: config.ingestMemoryMb,
      timeout: INGEST_TIMEOUT,
      serviceName: serviceName('operator'),
      environment: {
        ...appEnvironment,
        // POST /reconcile is an operator route: only this λ serves it on AWS.
        ...(config.reconcileIgnore.length > 0 ? { RECONCILE_IGNORE: config.reconcileIgnore.join(',') } : {}),
      },
      define: { ...roleMappingDefine, ...policyDefine },
      logRetention,
      ...(logsKmsKey ? { logsKmsKey } : {}),
      removalPolicy,
    });
    this.operator.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem'],
        resources: [this.table.table.tableArn, this.table.statusIndexArn],
      }),
    );
    // `forget` purges a person's items of every kind and writes its audit record.
    this.operator.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:DeleteItem', 'dynamodb:PutItem'],
        resources: [this.table.table.tableArn],
      }),
    );
    this.ingest.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queues.queue.queueArn] }),
    );
    this.ingestSecret.grantGetSecretValue(this.ingest.role);
    // Previews (ingest λ) and reconcile (operator λ) read TrueFoundry's current state to plan; their code path
    // is read-only (a facade with the list read only), writes happen only in the worker. They count against the
    // tenant's one rate: the shared token bucket's item in the table (RATE#, in INGEST_LEADING_KEYS).
    this.tfySecret.grantGetSecretValue(this.ingest.role);
    this.tfySecret.grantGetSecretValue(this.operator.role);
    this.operator.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.table.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [RATE_LEADING_KEY] } },
      }),
    );

    // `reconcile --apply` submits its events as POST /events does: it records them (event items and the
    // acceptance counter; PutItem is granted above) and enqueues them. `holds release` sets a held event queued
    // again and enqueues it; `holds reject` ends it failed (the guard's own items are puts and deletes). People,
    // marks and the ledger stay read-only to the operator λ.
    this.operator.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.table.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['EVENT#*', 'SEQUENCE'] } },
      }),
    );
    this.operator.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queues.queue.queueArn] }),
    );

    // The worker λ: converges TrueFoundry to each event, in order per employee.
    this.worker = new ServiceFunction(this, 'Worker', {
      entry: resolveEntry(entries.worker),
      description: `HR provisioning (${config.stage}): applies HR events to TrueFoundry`,
      memorySize: config.workerMemoryMb,
      timeout: workerTimeout,
      serviceName: serviceName('worker'),
      environment: {
        TABLE_NAME: this.table.table.tableName,
        DLQ_URL: this.queues.deadLetterQueue.queueUrl,
        QUEUE_URL: this.queues.queue.queueUrl,
        TFY_SECRET_ARN: this.tfySecret.secret.secretArn,
        TFY_PROVISION_MODE: config.tfyProvisionMode,
        ...(config.tfyAcceptInviteUrl ? { TFY_ACCEPT_INVITE_URL: config.tfyAcceptInviteUrl } : {}),
        ...(config.tfyTenantName ? { TFY_TENANT_NAME: config.tfyTenantName } : {}),
        TFY_DELETE_AFTER_OFFBOARD: String(config.tfyDeleteAfterOffboard),
        // The tenant's rate: the instances share it through a token bucket in the table.
        TFY_RATE_LIMIT_RPS: String(config.tfyRateLimitRps),
        TFY_TIMEOUT_MS: String(Math.min(MAX_TFY_TIMEOUT_MS, (config.workerTimeoutSeconds * 1000) / 4)),
        MAX_ATTEMPTS: String(config.maxAttempts),
        MAX_RECEIVE_COUNT: String(config.maxReceiveCount),
        RETENTION_DAYS: String(config.retentionDays),
        OFFBOARD_GUARD_MAX: String(config.offboardGuardMax),
        OFFBOARD_GUARD_WINDOW_MINUTES: String(config.offboardGuardWindowMinutes),
        ...(config.logEmails ? { LOG_EMAILS: 'true' } : {}),
      },
      // The role mapping is part of the code: validated at synth, inlined into the bundle.
      define: { ...roleMappingDefine, ...policyDefine },
      logRetention,
      ...(logsKmsKey ? { logsKmsKey } : {}),
      removalPolicy,
    });
    this.worker.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
        ],
        resources: [this.table.table.tableArn],
      }),
    );
    // Permanent failures are moved to the DLQ by the worker itself, with a `reason` attribute.
    this.worker.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: [this.queues.deadLetterQueue.queueArn],
      }),
    );
    // Receive/Delete/GetQueueAttributes come with the event source; the handler also changes visibility
    // (to honour Retry-After) of the messages it hands back.
    this.worker.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['sqs:ChangeMessageVisibility'],
        resources: [this.queues.queue.queueArn],
      }),
    );
    this.tfySecret.grantGetSecretValue(this.worker.role);
    // Every 5 minutes the worker peeks at the dead-letter queue and ends `failed` the events SQS moved there
    // by itself (deliveries that crashed or timed out before the worker could record an outcome); it makes
    // the letters visible again at once and deletes none.
    this.worker.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility'],
        resources: [this.queues.deadLetterQueue.queueArn],
      }),
    );
    const sweep = new Rule(this, 'DeadLetterSweep', {
      description: `HR provisioning (${config.stage}): ends failed the events SQS dead-lettered by itself`,
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [
        new LambdaFunction(this.worker.function, {
          event: RuleTargetInput.fromObject({ action: 'sweep-dead-letters' }),
          retryAttempts: 0,
        }),
      ],
    });
    Validations.of(sweep).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'The sweep is idempotent and runs again 5 minutes later; a missed run loses nothing (the letters stay in the dead-letter queue), so a failed invocation needs no dead-letter queue of its own',
    });
    // Effective dates (functions/core/schedule/release-due.ts says why a time index swept every minute rather
    // than a schedule per event): the worker queries the sparse byDueTime index, sends what is due to the
    // event queue in each person's message group, and marks it queued.
    this.worker.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:Query'], resources: [this.table.dueIndexArn] }),
    );
    this.worker.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queues.queue.queueArn] }),
    );
    const releaseScheduled = new Rule(this, 'ScheduledEventsRelease', {
      description: `HR provisioning (${config.stage}): queues the events whose effective time has come`,
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [
        new LambdaFunction(this.worker.function, {
          event: RuleTargetInput.fromObject({ action: 'release-scheduled' }),
          retryAttempts: 0,
        }),
      ],
    });
    Validations.of(releaseScheduled).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'The release is idempotent and runs again a minute later; a missed run loses nothing (the events stay scheduled in the table and are queued by the next run), so a failed invocation needs no dead-letter queue of its own',
    });
    this.worker.function.addEventSource(
      new SqsEventSource(this.queues.queue, {
        batchSize: config.workerBatchSize,
        maxConcurrency: config.workerMaxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    const notAsync =
      'Invoked synchronously only (API Gateway proxy integration or the SQS event source mapping), never asynchronously, so an async dead-letter target or failure destination would never receive anything';
    for (const fn of [this.ingest.function, this.operator.function]) {
      Validations.of(fn).acknowledge(
        { id: 'Serverless-LambdaDLQ', reason: notAsync },
        { id: 'Serverless-LambdaAsyncFailureDestination', reason: notAsync },
      );
    }
    const onlySweepAsync =
      'Invoked asynchronously only by its two schedules (the dead-letter sweep every 5 minutes, the release of scheduled events every minute), both idempotent and run again on the next tick: a lost run loses nothing, so it needs no dead-letter target or failure destination; events come through the SQS event source mapping, synchronously';
    Validations.of(this.worker.function).acknowledge(
      { id: 'Serverless-LambdaDLQ', reason: onlySweepAsync },
      { id: 'Serverless-LambdaAsyncFailureDestination', reason: onlySweepAsync },
    );
    Validations.of(this.worker.function).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event source mappings support no on-failure destination; failures go to the FIFO dead-letter queue through the redrive policy (maxReceiveCount) or are moved there by the worker with a reason',
    });

    // The API.
    this.api = new IngestApi(this, 'Api', {
      stage: config.stage,
      handler: this.ingest.function,
      operatorHandler: this.operator.function,
      throttleRateLimit: config.apiThrottleRateLimit,
      throttleBurstLimit: config.apiThrottleBurstLimit,
      operatorThrottleRateLimit: config.apiOperatorThrottleRateLimit,
      operatorThrottleBurstLimit: config.apiOperatorThrottleBurstLimit,
      ...(logsKmsKey ? { logsKmsKey } : {}),
      createCloudWatchRole: config.apiGatewayCloudWatchRole,
      logRetention,
      removalPolicy,
    });

    // Alarms and dashboard.
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stage: config.stage,
      queue: this.queues.queue,
      deadLetterQueue: this.queues.deadLetterQueue,
      worker: this.worker.function,
      ingest: this.ingest.function,
      api: this.api.api,
      workerServiceName: serviceName('worker'),
      alarmEmail: config.alarmEmail,
      removalPolicy,
    });
  }
}

/**
 * The partition keys the ingest λ may touch: event items, the acceptance counter, webhook-id records, and the
 * tenant's rate bucket (one number: when the next TrueFoundry call is due) that its previews are paced by.
 */
/** The tenant's shared rate bucket (SharedRateLimiter): previews and reconcile pace their reads by it. */
const RATE_LEADING_KEY = 'RATE#*';
export const INGEST_LEADING_KEYS = ['EVENT#*', 'SEQUENCE', 'WEBHOOK#*', RATE_LEADING_KEY] as const;

function resolveEntry(entry: string): string {
  return isAbsolute(entry) ? entry : resolve(PROJECT_ROOT, entry);
}
