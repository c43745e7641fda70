import { type Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PROJECT_ROOT } from './project-paths';

/** Powertools Metrics namespace of both functions; the dashboard reads the worker's outcome metrics from it. */
export const METRICS_NAMESPACE = 'HrProvisioning';

/** The Lambda runtime the handlers are written and tested for. */
export const LAMBDA_RUNTIME = Runtime.NODEJS_22_X;

// ESM bundles cannot `require`; a few CommonJS dependencies do, so give them one.
const CREATE_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** Node's options on Lambda: stack traces in the logs name the TypeScript sources (the bundle's source map). */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps';

/**
 * The AWS SDK's credential providers no function of this stack reaches, left out of the bundles (issue 14:
 * about 135 KB of each bundle, compiled at every cold start). Lambda puts the execution role's credentials
 * in the environment, where the default chain looks first (`fromEnv`), and the emulator and the tests do the
 * same; the SDK imports each of these with `import()` only when the ones before it found nothing. Should one
 * ever be reached (a role's credentials served otherwise), it loads from the runtime's own copy of the SDK
 * (nodejs22.x includes one); everything that runs stays bundled, at the versions of package-lock.json.
 */
export const UNREACHED_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@smithy/credential-provider-imds',
] as const;

/** How esbuild bundles every function (exported for bench/cold-start.bench.ts, which builds variants of it). */
export const LAMBDA_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  platform: 'node' as const,
  mainFields: ['module', 'main'],
  banner: CREATE_REQUIRE_BANNER,
  minify: true,
  sourceMap: true,
  // Stack traces need the mappings only; leaving the sources out keeps the bundle small.
  sourcesContent: false,
  // Bundle the AWS SDK too: the code runs against the SDK versions it was tested with (package-lock), not
  // whichever version the runtime ships that month; and a bundled SDK starts faster than the runtime's copy
  // (bench/cold-start.bench.ts measures both), and the emulator's Node has no copy of its own.
  bundleAwsSDK: true,
  // The local runtime's SQLite engine (no Lambda code path imports it, and it is a native module), and the
  // credential providers no function reaches.
  externalModules: ['better-sqlite3', ...UNREACHED_CREDENTIAL_PROVIDERS],
  forceDockerBundling: false,
} satisfies BundlingOptions;

/**
 * Context key: with `true`, esbuild writes its metafile (`index.meta.json`, what each input weighs in the
 * bundle) beside each bundle. For bench/cold-start.bench.ts only: the file would ship in the code asset.
 */
export const BUNDLE_METAFILE_CONTEXT = 'bundleMetafile';

export interface ServiceFunctionProps {
  /** Handler entry file, absolute or relative to the project root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** Powertools service name: the logger's `service` key and the metrics' `service` dimension. */
  readonly serviceName: string;
  readonly environment: Record<string, string>;
  /** esbuild `define`s: values inlined into the bundle at synth time. */
  readonly define?: Record<string, string>;
  readonly logRetention: RetentionDays;
  /** Encrypts the log group; default: CloudWatch Logs' own encryption. */
  readonly logsKmsKey?: IKey;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A Node.js Lambda function as every function of this project is built: an ESM bundle made locally by
 * esbuild (never Docker), arm64, X-Ray tracing, its own log group with a set retention and its own role with
 * nothing attached but what the caller grants, so each policy can be read as the function's exact needs.
 */
export class ServiceFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
      ...(props.logsKmsKey ? { encryptionKey: props.logsKmsKey } : {}),
    });

    // No AWSLambdaBasicExecutionRole: it allows writing to any log group; this role may write to its own only.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}/package-lock.json`,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      tracing: Tracing.ACTIVE,
      environment: {
        ...props.environment,
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      bundling: {
        ...LAMBDA_BUNDLING,
        define: props.define ?? {},
        metafile: this.node.tryGetContext(BUNDLE_METAFILE_CONTEXT) === true,
      },
    });

    Validations.of(this.function).acknowledge(
      {
        id: 'AwsSolutions-L1',
        reason:
          'Pinned to nodejs22.x deliberately: the handlers, Powertools and the esbuild target are tested on Node 22; move to a newer runtime as a tested change',
      },
      {
        id: 'Serverless-LambdaLatestVersion',
        reason:
          'Pinned to nodejs22.x deliberately: the handlers, Powertools and the esbuild target are tested on Node 22; move to a newer runtime as a tested change',
      },
    );
    // X-Ray accepts trace segments on no narrower resource than '*'.
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only xray:PutTraceSegments and xray:PutTelemetryRecords use Resource *: X-Ray has no resource-level permissions; every data action names its table, queue or secret ARN',
    });
  }
}
