import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  type IResource,
  LambdaIntegration,
  LogGroupLogDestination,
  type Method,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteAuth } from '../functions/core/ingest/authenticate';
import { ROUTE_TABLE } from '../functions/core/ingest/ingest-app';

/** The API Gateway stage; the API URL ends in it (`https://<id>.execute-api.<region>.amazonaws.com/v1/`). */
export const API_STAGE_NAME = 'v1';

export interface IngestApiProps {
  readonly stage: string;
  /** Serves the ingest routes (HR systems' posts). */
  readonly handler: IFunction;
  /** Serves the operator routes (IAM): the same app under a role that may read and purge state. */
  readonly operatorHandler: IFunction;
  /** Each ingest route's throttling: steady requests per second and burst. */
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  /** Each operator route's throttling, apart from the ingest routes'. */
  readonly operatorThrottleRateLimit: number;
  readonly operatorThrottleBurstLimit: number;
  /** Encrypts the access log group; default: CloudWatch Logs' own encryption. */
  readonly logsKmsKey?: IKey;
  /** Create the account-level role that lets API Gateway write execution logs (see docs/deploy.md). */
  readonly createCloudWatchRole: boolean;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

type Route = { path: string; method: 'GET' | 'POST' | 'DELETE'; auth: RouteAuth; iam: boolean };

/**
 * Every route of the API: the ingest app's route table (functions/core/ingest/ingest-app.ts), in its order.
 * Operator routes (reads, forget) need SigV4-signed IAM callers and are served by the operator λ; ingest
 * routes come from HR systems that cannot sign requests and are authenticated by the ingest λ (webhook
 * signature or token).
 */
export const INGEST_ROUTES: readonly Route[] = ROUTE_TABLE.map(({ path, method, auth }) => ({
  path,
  method,
  auth,
  iam: auth === 'operator',
}));

/** The stage's method settings key of a route: `/events/{id}` GET → `/events/{id}/GET`. */
const methodKey = (route: Route) => `${route.path}/${route.method}`;

const UNAUTHENTICATED_AT_GATEWAY =
  'POST routes are called by HR systems that cannot sign AWS requests; the ingest handler authenticates each request by Standard Webhooks HMAC signature, BambooHR signature or bearer token from Secrets Manager, and rejects it with 401 before any work';
const IAM_NOT_COGNITO =
  'The read routes use AWS_IAM authorization: operators and the hr-provisioning CLI sign with SigV4 using their AWS credentials, so a Cognito user pool would add a second identity system';
const HEALTH_CHECK_OPEN =
  'GET /healthz is a liveness probe for uptime monitors: it returns a constant and reads no data';

/**
 * The REST API in front of the ingest λ (Lambda proxy integration): IAM auth on the read routes, stage
 * throttling, JSON access logs, execution logs and metrics, X-Ray tracing.
 *
 * Request size: API Gateway and Lambda cap a request at 6 MB (10 MB at API Gateway, 6 MB Lambda payload);
 * the handler enforces the application's own limits (1 MiB for /events and webhooks, 5 MiB for /batch)
 * and answers 413 beyond them. A WAF web ACL is optional (see docs/deploy.md).
 */
export class IngestApi extends Construct {
  readonly api: RestApi;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
      ...(props.logsKmsKey ? { encryptionKey: props.logsKmsKey } : {}),
    });

    this.api = new RestApi(this, 'Api', {
      restApiName: `hr-provisioning-${props.stage}`,
      description: 'HR lifecycle events to TrueFoundry users: ingest API',
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: props.createCloudWatchRole,
      // The role is account-wide and may serve other APIs: never delete it with this stack.
      ...(props.createCloudWatchRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      deployOptions: {
        stageName: API_STAGE_NAME,
        // Stage throttling applies to each method on its own; the operator routes get their own, lower limits.
        throttlingRateLimit: props.throttleRateLimit,
        throttlingBurstLimit: props.throttleBurstLimit,
        methodOptions: Object.fromEntries(
          INGEST_ROUTES.filter((route) => route.iam).map((route) => [
            methodKey(route),
            {
              throttlingRateLimit: props.operatorThrottleRateLimit,
              throttlingBurstLimit: props.operatorThrottleBurstLimit,
            },
          ]),
        ),
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.custom(
          JSON.stringify({
            requestId: AccessLogField.contextRequestId(),
            requestTime: AccessLogField.contextRequestTime(),
            ip: AccessLogField.contextIdentitySourceIp(),
            caller: AccessLogField.contextIdentityCaller(),
            user: AccessLogField.contextIdentityUser(),
            userAgent: AccessLogField.contextIdentityUserAgent(),
            httpMethod: AccessLogField.contextHttpMethod(),
            resourcePath: AccessLogField.contextResourcePath(),
            protocol: AccessLogField.contextProtocol(),
            status: AccessLogField.contextStatus(),
            responseLength: AccessLogField.contextResponseLength(),
            responseLatency: AccessLogField.contextResponseLatency(),
            integrationStatus: AccessLogField.contextIntegrationStatus(),
            integrationLatency: AccessLogField.contextIntegrationLatency(),
            errorMessage: AccessLogField.contextErrorMessageString(),
            xrayTraceId: AccessLogField.contextXrayTraceId(),
          }),
        ),
        loggingLevel: MethodLoggingLevel.INFO,
        // Bodies carry personal data (names, e-mails): never write them to execution logs.
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
      },
    });

    // The stack exports the URL as ApiUrl; drop the API's own duplicate output.
    this.api.node.tryRemoveChild('Endpoint');

    const integration = new LambdaIntegration(props.handler, { proxy: true, allowTestInvoke: false });
    const operator = new LambdaIntegration(props.operatorHandler, { proxy: true, allowTestInvoke: false });
    for (const route of INGEST_ROUTES) {
      const target = route.iam ? operator : integration;
      const method = resourceAt(this.api.root, route.path).addMethod(route.method, target, {
        authorizationType: route.iam ? AuthorizationType.IAM : AuthorizationType.NONE,
      });
      if (route.iam) {
        Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason: IAM_NOT_COGNITO });
      } else {
        acknowledgeOpenMethod(method, route.auth === 'none' ? HEALTH_CHECK_OPEN : UNAUTHENTICATED_AT_GATEWAY);
      }
    }
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The account-level API Gateway logging role uses the AWS managed policy made for exactly this purpose; API Gateway writes execution logs for every API of the account through it',
      });
    }

    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Bodies are JSON, NDJSON, CSV or BambooHR payloads that the ingest handler validates with zod, answering 400 with every failing field path; an API Gateway model would duplicate that schema and reject CSV',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'WAF is optional for this API: writes are authenticated by signature or token and throttled at the stage, and reads need IAM; attach a web ACL to the stage where the organisation requires one',
      },
    );
  }
}

function resourceAt(root: IResource, path: string): IResource {
  return path
    .split('/')
    .filter((part) => part !== '')
    .reduce((resource, part) => resource.getResource(part) ?? resource.addResource(part), root);
}

function acknowledgeOpenMethod(method: Method, reason: string): void {
  Validations.of(method).acknowledge(
    { id: 'AwsSolutions-APIG4', reason },
    { id: 'AwsSolutions-COG4', reason },
  );
}
