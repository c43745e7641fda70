import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DUE_INDEX,
  DUE_INDEX_PARTITION_KEY,
  DUE_INDEX_SORT_KEY,
  PARTITION_KEY,
  SORT_KEY,
  STATUS_INDEX,
  STATUS_INDEX_PARTITION_KEY,
  STATUS_INDEX_SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../functions/core/adapters/dynamodb/table-schema';
import { INGEST_ROUTES } from '../../lib/ingest-api';
import {
  actionsOf,
  logicalId,
  policyStatementsOfRole,
  type Resource,
  removeAssemblies,
  resourcesOf,
  resourcesOfStatement,
  type Statement,
  synthStack,
} from './infra-harness';

const IMPORTED_TFY_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hr/truefoundry-AbCdEf';
const IMPORTED_INGEST_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hr/ingest';
const IMPORTED_INGEST_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const LOGS_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/9999abcd-12ab-34cd-56ef-1234567890ab';

/** Everything non-default at once: invite mode, imported secrets, destroy, other limits, e-mail alarms. */
const VARIANT = {
  stage: 'qa',
  tfyProvisionMode: 'invite',
  tfyAcceptInviteUrl: 'https://acme.truefoundry.cloud/accept-invite',
  tfyTenantName: 'acme',
  tfyDeleteAfterOffboard: 'true',
  tfyRateLimitRps: '10',
  workerMaxConcurrency: '4',
  workerBatchSize: '3',
  workerTimeoutSeconds: '120',
  workerMemoryMb: '1024',
  ingestMemoryMb: '256',
  maxReceiveCount: '3',
  retentionDays: '90',
  logRetentionDays: '90',
  removalPolicy: 'destroy',
  tfySecretArn: IMPORTED_TFY_SECRET,
  ingestSecretArn: IMPORTED_INGEST_SECRET,
  ingestSecretKmsKeyArn: IMPORTED_INGEST_KEY,
  alarmEmail: 'platform-oncall@example.com',
  apiThrottleRateLimit: '7',
  apiThrottleBurstLimit: '14',
  apiOperatorThrottleRateLimit: '2',
  apiOperatorThrottleBurstLimit: '3',
  logsKmsKeyArn: LOGS_KEY,
  apiGatewayCloudWatchRole: 'false',
  bamboohrCompanyDomain: 'acme',
  bamboohrTimeZone: 'America/New_York',
};

let template: Template;
let variant: Template;

afterAll(removeAssemblies);

beforeAll(() => {
  template = synthStack().template;
  variant = synthStack(VARIANT).template;
});

const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const ref = (id: string) => ({ Ref: id });

const ids = (t: Template) => ({
  table: logicalId(t, 'AWS::DynamoDB::Table', 'HrProvisioningStateTable'),
  queue: logicalId(t, 'AWS::SQS::Queue', 'HrProvisioningEventsQueue'),
  dlq: logicalId(t, 'AWS::SQS::Queue', 'HrProvisioningEventsDeadLetterQueue'),
  ingest: logicalId(t, 'AWS::Lambda::Function', 'HrProvisioningIngestFunction'),
  operator: logicalId(t, 'AWS::Lambda::Function', 'HrProvisioningOperatorFunction'),
  worker: logicalId(t, 'AWS::Lambda::Function', 'HrProvisioningWorkerFunction'),
  topic: logicalId(t, 'AWS::SNS::Topic', 'HrProvisioningMonitoringAlarmTopic'),
  api: logicalId(t, 'AWS::ApiGateway::RestApi', 'HrProvisioningApi'),
});

function propertiesOf(t: Template, type: string, id: string): Record<string, unknown> {
  const found = resourcesOf(t, type).find(([logical]) => logical === id);
  if (!found) throw new Error(`no ${type} ${id}`);
  return found[1].Properties;
}

describe('event queues', () => {
  it('are a FIFO queue with a FIFO dead-letter queue after maxReceiveCount deliveries', () => {
    const { dlq } = ids(template);
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      RedrivePolicy: { deadLetterTargetArn: getAtt(dlq), maxReceiveCount: 100 },
    });
    expect(propertiesOf(template, 'AWS::SQS::Queue', dlq)).toMatchObject({
      FifoQueue: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    expect(propertiesOf(variant, 'AWS::SQS::Queue', ids(variant).queue)).toMatchObject({
      RedrivePolicy: { maxReceiveCount: 3 },
    });
  });

  it('deduplicate by the producer id per message group, with high-throughput FIFO', () => {
    for (const id of [ids(template).queue, ids(template).dlq]) {
      expect(propertiesOf(template, 'AWS::SQS::Queue', id)).toMatchObject({
        ContentBasedDeduplication: false,
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
      });
    }
  });

  it('hide a received message for at least six times the worker timeout', () => {
    for (const t of [template, variant]) {
      const { queue, worker } = ids(t);
      const visibility = propertiesOf(t, 'AWS::SQS::Queue', queue).VisibilityTimeout as number;
      const timeout = propertiesOf(t, 'AWS::Lambda::Function', worker).Timeout as number;
      expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
    }
    expect(propertiesOf(variant, 'AWS::Lambda::Function', ids(variant).worker).Timeout).toBe(120);
  });

  it('are encrypted at rest and refuse requests without TLS', () => {
    for (const id of [ids(template).queue, ids(template).dlq]) {
      expect(propertiesOf(template, 'AWS::SQS::Queue', id).SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(id)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: getAtt(id),
            }),
          ]),
        },
      });
    }
  });
});

describe('worker event source mapping', () => {
  it('reports batch item failures, with the configured batch size and maximum concurrency', () => {
    const { queue, worker } = ids(template);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(queue),
      FunctionName: ref(worker),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    variant.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 3,
      ScalingConfig: { MaximumConcurrency: 4 },
    });
  });
});

describe('IAM', () => {
  const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

  it('grants no data action on Resource "*" and no action wildcard (X-Ray is the only "*")', () => {
    for (const t of [template, variant]) {
      const statements = resourcesOf(t, 'AWS::IAM::Policy').flatMap(
        ([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
      );
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        for (const action of actionsOf(statement)) expect(action).not.toMatch(/\*/);
        if (resourcesOfStatement(statement).includes('*')) expect(actionsOf(statement).sort()).toEqual(XRAY);
        for (const resource of resourcesOfStatement(statement)) {
          if (typeof resource === 'string' && resource !== '*') expect(resource).not.toMatch(/:\*$|\/\*$/);
        }
      }
    }
  });

  it('attaches no managed policy to the function roles', () => {
    for (const prefix of [
      'HrProvisioningIngestRole',
      'HrProvisioningOperatorRole',
      'HrProvisioningWorkerRole',
    ]) {
      const role = logicalId(template, 'AWS::IAM::Role', prefix);
      expect(propertiesOf(template, 'AWS::IAM::Role', role).ManagedPolicyArns).toBeUndefined();
    }
  });

  it('lets the ingest λ touch event items and the rate bucket only (by leading key), send to the queue and read its secret and (previews) the TrueFoundry secret, only', () => {
    const { table, queue } = ids(template);
    const ingestSecret = logicalId(template, 'AWS::SecretsManager::Secret', 'HrProvisioningIngestSecret');
    const tfySecret = logicalId(template, 'AWS::SecretsManager::Secret', 'HrProvisioningTrueFoundrySecret');
    const logs = logicalId(template, 'AWS::Logs::LogGroup', 'HrProvisioningIngestLogs');
    expect(normalised(policyStatementsOfRole(template, 'HrProvisioningIngestRole'))).toEqual(
      normalised([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(logs) },
        { Effect: 'Allow', Action: XRAY, Resource: '*' },
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          Resource: getAtt(table),
          Condition: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': ['EVENT#*', 'SEQUENCE', 'WEBHOOK#*', 'RATE#*'],
            },
          },
        },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(queue) },
        // A BambooHR date removed or moved cancels the person's scheduled events: found in the due index.
        {
          Effect: 'Allow',
          Action: 'dynamodb:Query',
          Resource: { 'Fn::Join': ['', [getAtt(table), `/index/${DUE_INDEX}`]] },
        },
        {
          Effect: 'Allow',
          Action: 'dynamodb:BatchGetItem',
          Resource: getAtt(table),
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['EVENT#*'] } },
        },
        // Previews read TrueFoundry (read-only code path), paced by the tenant's shared rate bucket.
        {
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: [ref(ingestSecret), ref(tfySecret)],
        },
      ]),
    );
  });

  it('lets the operator λ read the table and its index, purge items, pace by the rate bucket, read (reconcile) the TrueFoundry secret and submit reconcile events', () => {
    const { table, queue } = ids(template);
    const tfySecret = logicalId(template, 'AWS::SecretsManager::Secret', 'HrProvisioningTrueFoundrySecret');
    const logs = logicalId(template, 'AWS::Logs::LogGroup', 'HrProvisioningOperatorLogs');
    expect(normalised(policyStatementsOfRole(template, 'HrProvisioningOperatorRole'))).toEqual(
      normalised([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(logs) },
        { Effect: 'Allow', Action: XRAY, Resource: '*' },
        {
          Effect: 'Allow',
          Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'],
          Resource: [getAtt(table), { 'Fn::Join': ['', [getAtt(table), `/index/${STATUS_INDEX}`]] }],
        },
        { Effect: 'Allow', Action: ['dynamodb:DeleteItem', 'dynamodb:PutItem'], Resource: getAtt(table) },
        { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: ref(tfySecret) },
        {
          Effect: 'Allow',
          Action: 'dynamodb:UpdateItem',
          Resource: getAtt(table),
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RATE#*'] } },
        },
        // `reconcile --apply` records its events (event items, the acceptance counter) and enqueues them.
        {
          Effect: 'Allow',
          Action: 'dynamodb:UpdateItem',
          Resource: getAtt(table),
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['EVENT#*', 'SEQUENCE'] } },
        },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(queue) },
      ]),
    );
  });

  it('lets the worker use the table, consume the queue, send to and peek at the DLQ and read the TrueFoundry secret, only', () => {
    const { table, queue, dlq } = ids(template);
    const tfySecret = logicalId(template, 'AWS::SecretsManager::Secret', 'HrProvisioningTrueFoundrySecret');
    const logs = logicalId(template, 'AWS::Logs::LogGroup', 'HrProvisioningWorkerLogs');
    expect(normalised(policyStatementsOfRole(template, 'HrProvisioningWorkerRole'))).toEqual(
      normalised([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(logs) },
        { Effect: 'Allow', Action: XRAY, Resource: '*' },
        {
          Effect: 'Allow',
          Action: [
            'dynamodb:DeleteItem',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:Query',
            'dynamodb:UpdateItem',
          ],
          Resource: getAtt(table),
        },
        // Its permanent failures to the DLQ; and the schedule's sweep peeks at it (never deletes).
        {
          Effect: 'Allow',
          Action: ['sqs:ChangeMessageVisibility', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
          Resource: getAtt(dlq),
        },
        {
          Effect: 'Allow',
          Action: [
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:GetQueueUrl',
            'sqs:ReceiveMessage',
            'sqs:SendMessage',
          ],
          Resource: getAtt(queue),
        },
        { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: ref(tfySecret) },
        // Effective dates: the minute's release reads the due index and queues what is due.
        {
          Effect: 'Allow',
          Action: 'dynamodb:Query',
          Resource: { 'Fn::Join': ['', [getAtt(table), `/index/${DUE_INDEX}`]] },
        },
      ]),
    );
  });

  it('lets each function read only its own secrets (ingest and operator: the TrueFoundry one too, for previews and reconcile), imported ones included', () => {
    const secretReaders = (t: Template) =>
      resourcesOf(t, 'AWS::IAM::Policy').flatMap(([, policy]) => {
        const roles = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref.replace(/Role.*$/, ''));
        return (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter((s) =>
          actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
        ).map((s) => ({ roles, resources: resourcesOfStatement(s) }));
      });
    const tfySecret = logicalId(template, 'AWS::SecretsManager::Secret', 'HrProvisioningTrueFoundrySecret');
    const ingestSecret = logicalId(template, 'AWS::SecretsManager::Secret', 'HrProvisioningIngestSecret');
    expect(secretReaders(template)).toEqual(
      expect.arrayContaining([
        { roles: ['HrProvisioningIngest'], resources: [ref(ingestSecret), ref(tfySecret)] },
        { roles: ['HrProvisioningOperator'], resources: [ref(tfySecret)] },
        { roles: ['HrProvisioningWorker'], resources: [ref(tfySecret)] },
      ]),
    );
    expect(secretReaders(template)).toHaveLength(3);
    // Imported: a complete ARN exactly, a name-only ARN through its six-character suffix.
    expect(secretReaders(variant)).toEqual(
      expect.arrayContaining([
        {
          roles: ['HrProvisioningIngest'],
          resources: [`${IMPORTED_INGEST_SECRET}-??????`, IMPORTED_TFY_SECRET],
        },
        { roles: ['HrProvisioningOperator'], resources: [IMPORTED_TFY_SECRET] },
        { roles: ['HrProvisioningWorker'], resources: [IMPORTED_TFY_SECRET] },
      ]),
    );
    expect(secretReaders(variant)).toHaveLength(3);
  });

  it('grants kms:Decrypt on an imported secret key to its reader only, through Secrets Manager only', () => {
    const kms = (prefix: string) =>
      policyStatementsOfRole(variant, prefix).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kms('HrProvisioningWorkerRole')).toEqual([]);
    expect(kms('HrProvisioningIngestRole')).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: IMPORTED_INGEST_KEY,
        Condition: {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
            },
          },
        },
      },
    ]);
    expect(variant.findResources('AWS::SecretsManager::Secret')).toEqual({});
  });
});

describe('functions', () => {
  it('run nodejs22.x on arm64 with active tracing, explicit memory and timeout, and their own log group', () => {
    const expected = [
      { id: ids(template).ingest, memory: 1024, timeout: 29, logs: 'HrProvisioningIngestLogs' },
      { id: ids(template).worker, memory: 512, timeout: 60, logs: 'HrProvisioningWorkerLogs' },
    ];
    for (const fn of expected) {
      const logGroup = logicalId(template, 'AWS::Logs::LogGroup', fn.logs);
      expect(propertiesOf(template, 'AWS::Lambda::Function', fn.id)).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        MemorySize: fn.memory,
        Timeout: fn.timeout,
        LoggingConfig: { LogFormat: 'JSON', LogGroup: ref(logGroup) },
      });
      expect(propertiesOf(template, 'AWS::Logs::LogGroup', logGroup).RetentionInDays).toBe(30);
    }
    expect(propertiesOf(variant, 'AWS::Lambda::Function', ids(variant).ingest).MemorySize).toBe(256);
    expect(propertiesOf(variant, 'AWS::Lambda::Function', ids(variant).worker).MemorySize).toBe(1024);
    variant.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('give the ingest λ its environment', () => {
    const { ingest, table, queue } = ids(template);
    const secret = logicalId(template, 'AWS::SecretsManager::Secret', 'HrProvisioningIngestSecret');
    expect(environmentOf(template, ingest)).toEqual({
      TABLE_NAME: ref(table),
      QUEUE_URL: ref(queue),
      INGEST_SECRET_ARN: ref(secret),
      RETENTION_DAYS: '30',
      // Previews: the worker's planner settings and the tenant's rate; a short per-read timeout.
      TFY_SECRET_ARN: ref(
        logicalId(template, 'AWS::SecretsManager::Secret', 'HrProvisioningTrueFoundrySecret'),
      ),
      TFY_PROVISION_MODE: 'register',
      TFY_DELETE_AFTER_OFFBOARD: 'false',
      TFY_RATE_LIMIT_RPS: '20',
      TFY_TIMEOUT_MS: '5000',
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'hr-provisioning-ingest-dev',
      POWERTOOLS_METRICS_NAMESPACE: 'HrProvisioning',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    expect(environmentOf(variant, ids(variant).ingest)).toMatchObject({
      INGEST_SECRET_ARN: IMPORTED_INGEST_SECRET,
      BAMBOOHR_COMPANY_DOMAIN: 'acme',
      BAMBOOHR_TIME_ZONE: 'America/New_York',
      RETENTION_DAYS: '90',
      TFY_SECRET_ARN: IMPORTED_TFY_SECRET,
      TFY_PROVISION_MODE: 'invite',
      TFY_ACCEPT_INVITE_URL: 'https://acme.truefoundry.cloud/accept-invite',
      TFY_TENANT_NAME: 'acme',
      TFY_DELETE_AFTER_OFFBOARD: 'true',
      TFY_RATE_LIMIT_RPS: '10',
    });
  });

  it("give the worker its environment, with the tenant's whole TrueFoundry rate (the instances share it)", () => {
    const { worker, table, dlq } = ids(template);
    const secret = logicalId(template, 'AWS::SecretsManager::Secret', 'HrProvisioningTrueFoundrySecret');
    expect(environmentOf(template, worker)).toEqual({
      TABLE_NAME: ref(table),
      DLQ_URL: ref(dlq),
      QUEUE_URL: ref(ids(template).queue),
      TFY_SECRET_ARN: ref(secret),
      TFY_PROVISION_MODE: 'register',
      TFY_DELETE_AFTER_OFFBOARD: 'false',
      TFY_RATE_LIMIT_RPS: '20',
      TFY_TIMEOUT_MS: '15000',
      MAX_ATTEMPTS: '5',
      MAX_RECEIVE_COUNT: '100',
      RETENTION_DAYS: '30',
      OFFBOARD_GUARD_MAX: '25',
      OFFBOARD_GUARD_WINDOW_MINUTES: '60',
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'hr-provisioning-worker-dev',
      POWERTOOLS_METRICS_NAMESPACE: 'HrProvisioning',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    expect(environmentOf(variant, ids(variant).worker)).toMatchObject({
      TFY_SECRET_ARN: IMPORTED_TFY_SECRET,
      TFY_PROVISION_MODE: 'invite',
      TFY_ACCEPT_INVITE_URL: 'https://acme.truefoundry.cloud/accept-invite',
      TFY_TENANT_NAME: 'acme',
      TFY_DELETE_AFTER_OFFBOARD: 'true',
      TFY_RATE_LIMIT_RPS: '10',
      TFY_TIMEOUT_MS: '20000',
      MAX_RECEIVE_COUNT: '3',
    });
  });
});

describe('state table', () => {
  it('mirrors the adapter key design: pk/sk strings, the keys-only status index, the due index, TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: SORT_KEY, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: PARTITION_KEY, AttributeType: 'S' },
        { AttributeName: SORT_KEY, AttributeType: 'S' },
        { AttributeName: STATUS_INDEX_PARTITION_KEY, AttributeType: 'S' },
        { AttributeName: STATUS_INDEX_SORT_KEY, AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: STATUS_INDEX,
          KeySchema: [
            { AttributeName: STATUS_INDEX_PARTITION_KEY, KeyType: 'HASH' },
            { AttributeName: STATUS_INDEX_SORT_KEY, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: DUE_INDEX,
          KeySchema: [
            { AttributeName: DUE_INDEX_PARTITION_KEY, KeyType: 'HASH' },
            { AttributeName: DUE_INDEX_SORT_KEY, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['employeeKey'] },
        },
      ],
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    });
  });

  it('is on-demand, encrypted, with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('is retained and deletion-protected by default, and removable with removalPolicy=destroy', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
    variant.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
  });
});

describe('secrets', () => {
  it('are created with a generated value and placeholders, never a secret value in the template', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify({ baseUrl: 'REPLACE_WITH_TENANT_URL' }),
        GenerateStringKey: 'apiKey',
      }),
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: '{}',
        GenerateStringKey: 'ingestToken',
      }),
    });
    for (const [, secret] of resourcesOf(template, 'AWS::SecretsManager::Secret')) {
      expect(secret.Properties.SecretString).toBeUndefined();
    }
  });
});

describe('alarms', () => {
  const alarms = (t: Template) =>
    resourcesOf(t, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);

  it('notify the topic when raised and when cleared', () => {
    const { topic } = ids(template);
    expect(alarms(template)).toHaveLength(6);
    for (const alarm of alarms(template)) {
      expect(alarm.AlarmActions).toEqual([ref(topic)]);
      expect(alarm.OKActions).toEqual([ref(topic)]);
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
  });

  it('watch the DLQ, the oldest message, worker errors and throttles, and API 5xx', () => {
    const { dlq, queue, worker, api } = ids(template);
    const summary = alarms(template).map((a) => ({
      metric: a.MetricName,
      namespace: a.Namespace,
      dimensions: a.Dimensions,
      threshold: a.Threshold,
      operator: a.ComparisonOperator,
    }));
    expect(summary).toEqual(
      expect.arrayContaining([
        {
          metric: 'ApproximateNumberOfMessagesVisible',
          namespace: 'AWS/SQS',
          dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
          threshold: 1,
          operator: 'GreaterThanOrEqualToThreshold',
        },
        {
          metric: 'ApproximateAgeOfOldestMessage',
          namespace: 'AWS/SQS',
          dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
          threshold: 900,
          operator: 'GreaterThanThreshold',
        },
        {
          metric: 'Errors',
          namespace: 'AWS/Lambda',
          dimensions: [{ Name: 'FunctionName', Value: ref(worker) }],
          threshold: 1,
          operator: 'GreaterThanOrEqualToThreshold',
        },
        {
          metric: 'Throttles',
          namespace: 'AWS/Lambda',
          dimensions: [{ Name: 'FunctionName', Value: ref(worker) }],
          threshold: 1,
          operator: 'GreaterThanOrEqualToThreshold',
        },
        {
          metric: '5XXError',
          namespace: 'AWS/ApiGateway',
          dimensions: [{ Name: 'ApiName', Value: 'hr-provisioning-dev' }],
          threshold: 1,
          operator: 'GreaterThanOrEqualToThreshold',
        },
      ]),
    );
    expect(propertiesOf(template, 'AWS::ApiGateway::RestApi', api).Name).toBe('hr-provisioning-dev');
  });

  it('go to a KMS-encrypted, TLS-only topic that CloudWatch may publish to and use the key of', () => {
    const { topic } = ids(template);
    const key = logicalId(template, 'AWS::KMS::Key', 'HrProvisioningMonitoringTopicKey');
    expect(propertiesOf(template, 'AWS::SNS::Topic', topic).KmsMasterKeyId).toEqual(getAtt(key));
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [ref(topic)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('are e-mailed when alarmEmail is set', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    variant.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'platform-oncall@example.com',
      TopicArn: ref(ids(variant).topic),
    });
  });

  it('sit on a dashboard with the events by outcome', () => {
    const [[, dashboard]] = resourcesOf(template, 'AWS::CloudWatch::Dashboard') as [[string, Resource]];
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of ['EventSucceeded', 'EventSuperseded', 'EventFailed', 'EventRetried']) {
      expect(body).toContain(
        `[\\"HrProvisioning\\",\\"${metric}\\",\\"service\\",\\"hr-provisioning-worker-dev\\"`,
      );
    }
    for (const metric of [
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      '5XXError',
    ]) {
      expect(body).toContain(metric);
    }
  });
});

describe('API', () => {
  type Route = { method: string; path: string; authorization: string };

  function routesOf(t: Template): Route[] {
    const { api } = ids(t);
    const parents = new Map(
      resourcesOf(t, 'AWS::ApiGateway::Resource').map(([id, r]) => [
        id,
        r.Properties as { ParentId: unknown; PathPart: string },
      ]),
    );
    const pathOf = (resourceId: unknown): string => {
      const id = (resourceId as { Ref?: string }).Ref;
      const resource = id ? parents.get(id) : undefined;
      return resource ? `${pathOf(resource.ParentId)}/${resource.PathPart}` : '';
    };
    return resourcesOf(t, 'AWS::ApiGateway::Method').map(([, m]) => {
      const p = m.Properties as Record<string, unknown>;
      expect(p.RestApiId).toEqual(ref(api));
      expect(p.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
      const iam = p.AuthorizationType === 'AWS_IAM';
      // IAM routes go to the operator λ, the others to the ingest λ.
      expect(JSON.stringify(p.Integration)).toContain(iam ? ids(t).operator : ids(t).ingest);
      expect(JSON.stringify(p.Integration)).not.toContain(iam ? ids(t).ingest : ids(t).operator);
      return {
        method: p.HttpMethod as string,
        path: pathOf(p.ResourceId),
        authorization: p.AuthorizationType as string,
      };
    });
  }

  it('routes the ingest routes to the ingest λ and the IAM operator routes to the operator λ', () => {
    expect(routesOf(template).sort(byRoute)).toEqual(
      [
        { method: 'POST', path: '/events', authorization: 'NONE' },
        { method: 'POST', path: '/batch', authorization: 'NONE' },
        { method: 'POST', path: '/webhooks/bamboohr', authorization: 'NONE' },
        { method: 'GET', path: '/events', authorization: 'AWS_IAM' },
        { method: 'GET', path: '/events/{id}', authorization: 'AWS_IAM' },
        { method: 'DELETE', path: '/events/{id}', authorization: 'AWS_IAM' },
        { method: 'POST', path: '/forget', authorization: 'AWS_IAM' },
        { method: 'POST', path: '/reconcile', authorization: 'AWS_IAM' },
        { method: 'GET', path: '/holds', authorization: 'AWS_IAM' },
        { method: 'POST', path: '/holds/release', authorization: 'AWS_IAM' },
        { method: 'POST', path: '/holds/reject', authorization: 'AWS_IAM' },
        { method: 'GET', path: '/healthz', authorization: 'NONE' },
      ].sort(byRoute),
    );
    expect(INGEST_ROUTES).toHaveLength(12);
  });

  it('throttles each operator route apart from the ingest routes', () => {
    const settingsOf = (t: Template) => {
      const [[, stage]] = resourcesOf(t, 'AWS::ApiGateway::Stage') as [[string, Resource]];
      return (stage.Properties as { MethodSettings: Record<string, unknown>[] }).MethodSettings;
    };
    const operator = (rate: number, burst: number) =>
      ['/events/GET', '/events/{id}/GET', '/forget/POST'].map((key) => {
        const [path, method] = [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)];
        return expect.objectContaining({
          ResourcePath: `/${path.replace(/\//g, '~1')}`,
          HttpMethod: method,
          ThrottlingRateLimit: rate,
          ThrottlingBurstLimit: burst,
        });
      });
    expect(settingsOf(template)).toEqual(expect.arrayContaining(operator(5, 10)));
    expect(settingsOf(variant)).toEqual(expect.arrayContaining(operator(2, 3)));
  });

  it('encrypts every log group with the customer managed key when logsKmsKeyArn is set', () => {
    const groups = resourcesOf(variant, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(4);
    for (const [, group] of groups) expect(group.Properties.KmsKeyId).toBe(LOGS_KEY);
    for (const [, group] of resourcesOf(template, 'AWS::Logs::LogGroup')) {
      expect(group.Properties.KmsKeyId).toBeUndefined();
    }
  });

  it('throttles the stage, writes JSON access logs, execution logs without bodies, metrics and traces', () => {
    const accessLogs = logicalId(template, 'AWS::Logs::LogGroup', 'HrProvisioningApiAccessLogs');
    const [[, stage]] = resourcesOf(template, 'AWS::ApiGateway::Stage') as [[string, Resource]];
    const p = stage.Properties as Record<string, unknown> & { AccessLogSetting: { Format: string } };
    expect(p).toMatchObject({
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: expect.arrayContaining([
        {
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
          LoggingLevel: 'INFO',
          DataTraceEnabled: false,
          MetricsEnabled: true,
        },
      ]),
    });
    expect(JSON.stringify(p.AccessLogSetting)).toContain(accessLogs);
    const format = JSON.parse(p.AccessLogSetting.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      ip: '$context.identity.sourceIp',
      resourcePath: '$context.resourcePath',
    });
    variant.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 7, ThrottlingBurstLimit: 14 }),
      ]),
    });
  });

  it('creates the account logging role unless told the account has one', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    variant.resourceCountIs('AWS::ApiGateway::Account', 0);
  });
});

describe('outputs', () => {
  it('give the API URL, queue and DLQ URLs, table name and secret ARNs', () => {
    const outputs = Object.keys(template.toJSON().Outputs as object);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'BambooHrWebhookUrl',
        'EventsReadInvokeArn',
        'ForgetInvokeArn',
        'QueueUrl',
        'DeadLetterQueueUrl',
        'TableName',
        'TrueFoundrySecretArn',
        'IngestSecretArn',
        'AlarmTopicArn',
        'DashboardName',
      ]),
    );
    expect(outputs).toHaveLength(11);
    expect(JSON.stringify(template.toJSON().Outputs.EventsReadInvokeArn.Value)).toContain('/v1/GET/events*');
    expect(JSON.stringify(template.toJSON().Outputs.ForgetInvokeArn.Value)).toContain('/v1/POST/forget');
  });
});

describe('snapshot', () => {
  it('matches, with bundle-dependent values normalised', () => {
    expect(normaliseTemplate(template.toJSON())).toMatchSnapshot();
  });
});

function environmentOf(t: Template, functionId: string): Record<string, unknown> {
  return (
    propertiesOf(t, 'AWS::Lambda::Function', functionId).Environment as { Variables: Record<string, unknown> }
  ).Variables;
}

const byRoute = (a: { method: string; path: string }, b: { method: string; path: string }) =>
  `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`);

/** Statements with their action lists sorted and in a stable order, to compare as sets. */
function normalised(statements: Statement[]): Statement[] {
  return statements
    .map((s) => ({ ...s, Action: Array.isArray(s.Action) ? [...s.Action].sort() : s.Action }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** The asset hashes change with every change to the handlers' code; the rest of the template does not. */
function normaliseTemplate(json: unknown): unknown {
  return JSON.parse(
    JSON.stringify(json)
      .replace(/[0-9a-f]{64}\.zip/g, '[asset].zip')
      .replace(/asset\.[0-9a-f]{64}/g, 'asset.[hash]'),
  );
}

describe('the worker’s schedules', () => {
  it('invokes the worker every 5 minutes to sweep the dead letters and every minute to release scheduled events, and only the worker', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as {
      Properties: Record<string, unknown>;
    }[];
    const ruleFor = (action: string) =>
      rules.find((r) => JSON.stringify(r.Properties.Targets).includes(action))?.Properties;
    expect(rules).toHaveLength(2);
    for (const [action, rate] of [
      ['sweep-dead-letters', 'rate(5 minutes)'],
      ['release-scheduled', 'rate(1 minute)'],
    ] as const) {
      expect(ruleFor(action)).toMatchObject({
        ScheduleExpression: rate,
        State: 'ENABLED',
        Targets: [
          {
            Arn: { 'Fn::GetAtt': [expect.stringMatching(/^HrProvisioningWorkerFunction/), 'Arn'] },
            Input: JSON.stringify({ action }),
            RetryPolicy: { MaximumRetryAttempts: 0 },
          },
        ],
      });
    }
  });
});
