import { Aws, Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from './service-function';

/** The custom metrics the worker emits (Powertools Metrics), one per event outcome. */
export const OUTCOME_METRICS = ['EventSucceeded', 'EventSuperseded', 'EventFailed', 'EventRetried'] as const;

/** Alarm when the oldest message of the event queue has waited this long: the workers are not keeping up. */
export const OLDEST_MESSAGE_ALARM_AGE = Duration.minutes(15);

export interface MonitoringProps {
  readonly stage: string;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly worker: IFunction;
  readonly ingest: IFunction;
  readonly api: RestApi;
  /** The worker's Powertools service name: the `service` dimension of its outcome metrics. */
  readonly workerServiceName: string;
  readonly alarmEmail?: string;
  readonly removalPolicy: RemovalPolicy;
}

/** Alarms to an encrypted SNS topic (optionally e-mailed) and a dashboard of the whole pipeline. */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    // CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key: a customer managed key
    // whose policy lets CloudWatch use it is required.
    const key = new Key(this, 'TopicKey', {
      description: `HR provisioning (${props.stage}) alarm topic encryption`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');

    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: `HR provisioning (${props.stage}) alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    // The TLS-only topic policy replaces SNS's default one, so say explicitly that this account's alarms publish.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    if (props.alarmEmail) {
      const subscription = this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An e-mail subscription has no consumer that could fail to process a message; SNS retries e-mail delivery itself and a dead-letter queue would hold alarm notifications nobody reads',
      });
    }

    const minute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);
    const alarm = (
      id: string,
      description: string,
      metric: IMetric,
      threshold: number,
      op: ComparisonOperator,
    ) => {
      const created = new Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: op,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      created.addOkAction(new SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };

    const dlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: minute,
      statistic: 'Maximum',
    });
    const oldestAge = props.queue.metricApproximateAgeOfOldestMessage({
      period: minute,
      statistic: 'Maximum',
    });
    const workerErrors = props.worker.metricErrors({ period: fiveMinutes, statistic: 'Sum' });
    const workerThrottles = props.worker.metricThrottles({ period: fiveMinutes, statistic: 'Sum' });
    const api5xx = props.api.metricServerError({ period: fiveMinutes, statistic: 'Sum' });

    alarm(
      'DeadLetterQueueNotEmpty',
      'An HR event failed for good and is in the dead-letter queue: run `hr-provisioning dlq list`, fix the cause, then redrive or discard it (docs/deploy.md).',
      dlqDepth,
      1,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
    alarm(
      'QueueOldestMessageAge',
      `An HR event has waited over ${OLDEST_MESSAGE_ALARM_AGE.toMinutes()} minutes in the event queue: workers are failing, throttled by TrueFoundry, or too few for the load.`,
      oldestAge,
      OLDEST_MESSAGE_ALARM_AGE.toSeconds(),
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    alarm(
      'WorkerErrors',
      'The worker λ failed an invocation (crash or timeout, not a reported event failure): its whole batch returns to the queue. Check its logs.',
      workerErrors,
      1,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
    alarm(
      'WorkerThrottles',
      'The worker λ was throttled: the account or region is out of Lambda concurrency.',
      workerThrottles,
      1,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );
    alarm(
      'ApiServerErrors',
      'The ingest API answered 5xx: an HR event may not have been accepted (the sender should retry). Check the ingest λ logs and the API access logs.',
      api5xx,
      1,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );

    const outcome = (metricName: string) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: props.workerServiceName },
        statistic: 'Sum',
        period: fiveMinutes,
      });
    alarm(
      'EventsHeld',
      'The offboarding guard held an offboard (more deactivations than OFFBOARD_GUARD_MAX within the window), or an event behind one: run `hr-provisioning holds list`, then release or reject them (docs/operations.md).',
      outcome('HeldEvents'),
      1,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    );

    // Dashboards are global to the account: the region keeps same-named stages in two regions apart.
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `HrProvisioning-${props.stage}-${Aws.REGION}`,
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# HR provisioning (${props.stage})\nHR events in through the API, through the FIFO queue, to TrueFoundry. Alarms go to the SNS topic.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Events by outcome',
        left: OUTCOME_METRICS.map(outcome),
        stacked: true,
        width: 12,
      }),
      new GraphWidget({
        title: 'Event queue',
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum' }),
          props.queue.metricApproximateNumberOfMessagesNotVisible({ period: minute, statistic: 'Maximum' }),
        ],
        right: [oldestAge],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Dead-letter queue', left: [dlqDepth], width: 8 }),
      new GraphWidget({
        title: 'Worker λ',
        left: [props.worker.metricInvocations({ period: fiveMinutes }), workerErrors, workerThrottles],
        right: [props.worker.metricDuration({ period: fiveMinutes, statistic: 'p95' })],
        width: 8,
      }),
      new GraphWidget({
        title: 'Ingest API',
        left: [
          props.api.metricCount({ period: fiveMinutes, statistic: 'Sum' }),
          props.api.metricClientError({ period: fiveMinutes, statistic: 'Sum' }),
          api5xx,
        ],
        right: [props.api.metricLatency({ period: fiveMinutes, statistic: 'p95' })],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Ingest λ',
        left: [
          props.ingest.metricInvocations({ period: fiveMinutes }),
          props.ingest.metricErrors({ period: fiveMinutes }),
          props.ingest.metricThrottles({ period: fiveMinutes }),
        ],
        right: [props.ingest.metricDuration({ period: fiveMinutes, statistic: 'p95' })],
        width: 12,
      }),
    );
  }
}
