/**
 * AWS list prices the cost model (bench/cost.ts) uses: region us-east-1, on-demand, no free tier, as known to
 * the author on the date below. They are not fetched (the bench runs offline) and prices change: check each
 * against its page before quoting a figure.
 */
export const PRICES_AS_OF = '2025-06 (list prices as known then; check them)';
export const PRICE_REGION = 'us-east-1';

export const PRICES = {
  /** Lambda on arm64 (the stack's architecture): per GB-second of duration, and per request. */
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** API Gateway REST API (lib/ingest-api.ts builds a RestApi, not an HTTP API): first 333 million a month. */
  restApiRequest: 3.5 / 1e6,
  /** SQS FIFO: per request (each 64 KiB of a request's payload counts as one). */
  sqsFifoRequest: 0.5 / 1e6,
  /** DynamoDB on-demand (after the November 2024 price cut): per write and read request unit. */
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  /** DynamoDB storage and continuous backups (PITR is on), per GB-month. */
  dynamoStorageGbMonth: 0.25,
  dynamoPitrGbMonth: 0.2,
  /** Secrets Manager: per 10,000 API calls, and per secret a month. */
  secretsCall: 0.05 / 10_000,
  secretMonth: 0.4,
  /** CloudWatch Logs (standard class): ingestion per GB, storage per GB-month. */
  logsIngestGb: 0.5,
  logsStorageGbMonth: 0.03,
  /** X-Ray: per trace recorded. */
  xrayTrace: 5 / 1e6,
  /** EventBridge scheduled rules: the invocations of a schedule on the default bus are not charged. */
  eventBridgeScheduledInvocation: 0,
  /** CloudWatch: per custom metric a month (EMF), per standard alarm a month, per dashboard a month. */
  customMetricMonth: 0.3,
  alarmMonth: 0.1,
  dashboardMonth: 3,
} as const;

/** The pages to check them on. */
export const PRICE_SOURCES = [
  'https://aws.amazon.com/lambda/pricing/',
  'https://aws.amazon.com/api-gateway/pricing/',
  'https://aws.amazon.com/sqs/pricing/',
  'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  'https://aws.amazon.com/secrets-manager/pricing/',
  'https://aws.amazon.com/cloudwatch/pricing/',
  'https://aws.amazon.com/xray/pricing/',
  'https://aws.amazon.com/eventbridge/pricing/',
];
