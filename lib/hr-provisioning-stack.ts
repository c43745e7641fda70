import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { HrProvisioningConfig } from './config';
import { HrProvisioning } from './hr-provisioning';
import { API_STAGE_NAME } from './ingest-api';
import type { FunctionEntries } from './project-paths';

export interface HrProvisioningStackProps extends StackProps {
  readonly config: HrProvisioningConfig;
  /** Handler entry files; defaults to functions/ingest.ts and functions/worker.ts. */
  readonly entries?: Partial<FunctionEntries>;
}

/** The stack name of a stage: `HrProvisioning-<stage>`, so stages deploy side by side in one account. */
export const stackNameOf = (stage: string): string => `HrProvisioning-${stage}`;

/** One deployment of the pipeline, and what an operator needs from it as outputs. */
export class HrProvisioningStack extends Stack {
  readonly provisioning: HrProvisioning;

  constructor(scope: Construct, id: string, props: HrProvisioningStackProps) {
    super(scope, id, {
      description: `HR lifecycle events to TrueFoundry users (stage ${props.config.stage})`,
      ...props,
    });

    const provisioning = new HrProvisioning(this, 'HrProvisioning', {
      config: props.config,
      entries: props.entries,
    });
    this.provisioning = provisioning;

    const api = provisioning.api.api;
    new CfnOutput(this, 'ApiUrl', { description: 'Ingest API base URL', value: api.url });
    new CfnOutput(this, 'BambooHrWebhookUrl', {
      description: 'The URL to give BambooHR as the webhook target',
      value: api.urlForPath('/webhooks/bamboohr'),
    });
    new CfnOutput(this, 'EventsReadInvokeArn', {
      description:
        'Grant operators execute-api:Invoke on this to read events (GET /events, GET /events/{id})',
      value: this.formatArn({
        service: 'execute-api',
        resource: api.restApiId,
        resourceName: `${API_STAGE_NAME}/GET/events*`,
      }),
    });
    new CfnOutput(this, 'ForgetInvokeArn', {
      description:
        'Grant the privacy officer execute-api:Invoke on this to erase a person (POST /forget); kept apart from reads',
      value: this.formatArn({
        service: 'execute-api',
        resource: api.restApiId,
        resourceName: `${API_STAGE_NAME}/POST/forget`,
      }),
    });
    new CfnOutput(this, 'QueueUrl', {
      description: 'Event queue (FIFO)',
      value: provisioning.queues.queue.queueUrl,
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      description: 'Dead-letter queue (FIFO)',
      value: provisioning.queues.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'TableName', {
      description: 'DynamoDB state table',
      value: provisioning.table.table.tableName,
    });
    new CfnOutput(this, 'TrueFoundrySecretArn', {
      description: 'Secret { baseUrl, apiKey } read by the worker',
      value: provisioning.tfySecret.secret.secretArn,
    });
    new CfnOutput(this, 'IngestSecretArn', {
      description:
        'Secret { webhookSecret?, ingestToken?, bamboohrWebhookKey?, bamboohrApiKey? } read by the ingest λ',
      value: provisioning.ingestSecret.secret.secretArn,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Alarm notifications',
      value: provisioning.monitoring.topic.topicArn,
    });
    new CfnOutput(this, 'DashboardName', {
      description: 'CloudWatch dashboard',
      value: provisioning.monitoring.dashboard.dashboardName,
    });
  }
}
