import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2WithIAMAuthorizer,
  Context,
  SQSRecord,
} from 'aws-lambda';

/** A REST API (v1) proxy event as API Gateway sends it (shape from the AWS documentation). */
export function restApiEvent(input: {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  base64?: boolean;
  query?: Record<string, string>;
  iamUserArn?: string;
}): APIGatewayProxyEvent {
  return {
    resource: input.path.startsWith('/events/') ? '/events/{id}' : input.path,
    path: input.path,
    httpMethod: input.method,
    headers: {
      Host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      'User-Agent': 'curl/8.5.0',
      ...input.headers,
    },
    multiValueHeaders: {},
    queryStringParameters: input.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: input.path.startsWith('/events/') ? { id: input.path.slice('/events/'.length) } : null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: input.method,
      identity: {
        accessKey: input.iamUserArn ? 'ASIAEXAMPLE' : null,
        accountId: input.iamUserArn ? '123456789012' : null,
        apiKey: null,
        apiKeyId: null,
        caller: input.iamUserArn ? 'AROAEXAMPLE:operator' : null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.10',
        user: input.iamUserArn ? 'AROAEXAMPLE:operator' : null,
        userAgent: 'curl/8.5.0',
        userArn: input.iamUserArn ?? null,
      },
      path: `/prod${input.path}`,
      stage: 'prod',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTimeEpoch: Date.now(),
      resourceId: 'abc123',
      resourcePath: input.path,
    },
    body:
      input.body === undefined
        ? null
        : input.base64
          ? Buffer.from(input.body).toString('base64')
          : input.body,
    isBase64Encoded: Boolean(input.base64),
  };
}

/** An HTTP API (v2) proxy event, on a named stage so rawPath carries the stage prefix. */
export function httpApiEvent(input: {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  iamUserArn?: string;
}): APIGatewayProxyEventV2WithIAMAuthorizer {
  return {
    version: '2.0',
    routeKey: `${input.method} ${input.path}`,
    rawPath: `/prod${input.path}`,
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com', ...lower(input.headers ?? {}) },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: {
        iam: {
          accessKey: 'ASIAEXAMPLE',
          accountId: '123456789012',
          callerId: 'AROAEXAMPLE:operator',
          cognitoIdentity: null as never,
          principalOrgId: '',
          userArn: input.iamUserArn ?? '',
          userId: 'AROAEXAMPLE',
        },
      },
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method: input.method,
        path: `/prod${input.path}`,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.10',
        userAgent: 'curl/8.5.0',
      },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey: `${input.method} ${input.path}`,
      stage: 'prod',
      time: '29/Nov/2026:09:00:00 +0000',
      timeEpoch: Date.now(),
    },
    ...(input.body === undefined ? {} : { body: input.body }),
    isBase64Encoded: false,
  };
}

const lower = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

export const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:hr-provisioning-events.fifo';

/** An SQS FIFO record as the event source mapping delivers it. */
export function fifoRecord(
  body: object,
  input: { groupId: string; dedupId: string; receiveCount?: number; seq: number },
): SQSRecord {
  return {
    messageId: `msg-${input.seq}`,
    receiptHandle: `receipt-${input.seq}`,
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(input.receiveCount ?? 1),
      SentTimestamp: String(Date.now()),
      SenderId: 'AROAEXAMPLE:ingest',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      SequenceNumber: String(18_849_496_460_467_696_128n + BigInt(input.seq)),
      MessageGroupId: input.groupId,
      MessageDeduplicationId: input.dedupId,
    },
    messageAttributes: {},
    md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: 'eu-west-1',
  };
}

export const lambdaContext = (name: string): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: name,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
  memoryLimitInMB: '512',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  logGroupName: `/aws/lambda/${name}`,
  logStreamName: '2026/11/29/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});
