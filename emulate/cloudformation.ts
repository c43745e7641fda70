import { createHash } from 'node:crypto';

/** A CloudFormation template as `cdk synth` writes it; only what the emulator reads is typed. */
export type Template = {
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, { Value: unknown }>;
};

export type TemplateResource = { Type: string; Properties?: Record<string, unknown> };

/** Where the emulated stack lives: the values CloudFormation would have filled in. */
export type EmulatedPlacement = {
  stackName: string;
  region: string;
  /** The account fauxqs puts in its queue ARNs and URLs. */
  account: string;
  /** The emulated SQS endpoint, e.g. http://127.0.0.1:4566: queue URLs (a queue's Ref) start with it. */
  sqsOrigin: string;
};

/**
 * The synthesized template as if CloudFormation had created it: every resource gets the physical name
 * CloudFormation would generate (without its random suffix, so that a table kept in DATA_DIR keeps its name
 * across starts), and Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and Fn::Split resolve to those names.
 */
export class EmulatedStack {
  readonly template: Template;
  readonly placement: EmulatedPlacement;

  constructor(template: Template, placement: EmulatedPlacement) {
    this.template = template;
    this.placement = placement;
  }

  /** The resources of one type, by logical id, in template order. */
  resourcesOfType(type: string): [string, Record<string, unknown>][] {
    return Object.entries(this.template.Resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([id, resource]) => [id, resource.Properties ?? {}]);
  }

  /** A stack output, resolved. */
  output(name: string): string | undefined {
    const output = this.template.Outputs?.[name];
    return output === undefined ? undefined : String(this.resolve(output.Value));
  }

  /** The name CloudFormation gives a resource that names none: `<stack>-<logical id>`, within `max`. */
  generatedName(logicalId: string, max: number, suffix = ''): string {
    return `${this.placement.stackName}-${logicalId}`.slice(0, max - suffix.length) + suffix;
  }

  /** What `Ref` answers for a resource or a pseudo parameter. */
  ref(name: string): unknown {
    const { region, account, stackName } = this.placement;
    switch (name) {
      case 'AWS::Region':
        return region;
      case 'AWS::AccountId':
        return account;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/${fakeId(stackName, 36)}`;
      case 'AWS::NoValue':
        return undefined;
    }
    const resource = this.resource(name);
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        return `${this.placement.sqsOrigin}/${account}/${this.queueName(name)}`;
      case 'AWS::SecretsManager::Secret':
        return this.secretArn(name);
      case 'AWS::DynamoDB::Table':
        return (props.TableName as string | undefined) ?? this.generatedName(name, 255);
      case 'AWS::Lambda::Function':
        return (props.FunctionName as string | undefined) ?? this.generatedName(name, 64);
      case 'AWS::Logs::LogGroup':
        return (props.LogGroupName as string | undefined) ?? this.generatedName(name, 512);
      case 'AWS::IAM::Role':
        return (props.RoleName as string | undefined) ?? this.generatedName(name, 64);
      case 'AWS::ApiGateway::RestApi':
      case 'AWS::ApiGateway::Resource':
      case 'AWS::ApiGateway::Deployment':
        return fakeId(name, 10);
      case 'AWS::ApiGateway::Stage':
        return props.StageName;
      default:
        return this.generatedName(name, 255);
    }
  }

  /** What `Fn::GetAtt` answers. */
  getAtt(name: string, attribute: string): unknown {
    const { region, account } = this.placement;
    const resource = this.resource(name);
    const key = `${resource.Type}.${attribute}`;
    switch (key) {
      case 'AWS::SQS::Queue.Arn':
        return `arn:aws:sqs:${region}:${account}:${this.queueName(name)}`;
      case 'AWS::SQS::Queue.QueueName':
        return this.queueName(name);
      case 'AWS::SQS::Queue.QueueUrl':
        return this.ref(name);
      case 'AWS::DynamoDB::Table.Arn':
        return `arn:aws:dynamodb:${region}:${account}:table/${this.ref(name)}`;
      case 'AWS::Lambda::Function.Arn':
        return `arn:aws:lambda:${region}:${account}:function:${this.ref(name)}`;
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${account}:role/${this.ref(name)}`;
      case 'AWS::Logs::LogGroup.Arn':
        return `arn:aws:logs:${region}:${account}:log-group:${this.ref(name)}:*`;
      case 'AWS::ApiGateway::RestApi.RootResourceId':
        return fakeId(`${name}/`, 10);
      default:
        return `${this.ref(name)}`;
    }
  }

  /** A template value with its intrinsic functions resolved. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [fn, args] = entries[0] ?? [];
    if (entries.length !== 1 || fn === undefined || !(fn === 'Ref' || fn.startsWith('Fn::'))) {
      return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(item)]));
    }
    switch (fn) {
      case 'Ref':
        return this.ref(String(args));
      case 'Fn::GetAtt': {
        const [name, attribute] = Array.isArray(args) ? args : String(args).split('.');
        return this.getAtt(String(name), String(attribute));
      }
      case 'Fn::Join': {
        const [separator, items] = args as [string, unknown[]];
        return (this.resolve(items) as unknown[]).join(separator);
      }
      case 'Fn::Select': {
        const [index, items] = args as [unknown, unknown];
        return (this.resolve(items) as unknown[])[Number(this.resolve(index))];
      }
      case 'Fn::Split': {
        const [separator, text] = args as [string, unknown];
        return String(this.resolve(text)).split(separator);
      }
      case 'Fn::Sub':
        return this.sub(args);
      default:
        throw new Error(`the emulator cannot resolve ${fn} (in ${JSON.stringify(value).slice(0, 200)})`);
    }
  }

  private sub(args: unknown): string {
    const [text, variables] = Array.isArray(args)
      ? [String(args[0]), (args[1] ?? {}) as Record<string, unknown>]
      : [String(args), {}];
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_all, name: string) => {
      if (name in variables) return String(this.resolve(variables[name]));
      const [resource, attribute] = name.split('.');
      return String(attribute ? this.getAtt(resource ?? '', attribute) : this.ref(name));
    });
  }

  private resource(logicalId: string): TemplateResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`the template has no resource ${logicalId}`);
    return resource;
  }

  private queueName(logicalId: string): string {
    const props = this.resource(logicalId).Properties ?? {};
    const given = props.QueueName as string | undefined;
    return given ?? this.generatedName(logicalId, 80, props.FifoQueue === true ? '.fifo' : '');
  }

  private secretArn(logicalId: string): string {
    const { region, account } = this.placement;
    const name = (this.resource(logicalId).Properties?.Name as string | undefined) ?? logicalId;
    // Secrets Manager appends `-` and six random characters to the name.
    return `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${fakeId(name, 6)}`;
  }
}

/** A stable stand-in for a random id: the same name gives the same id at every start. */
function fakeId(seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('base64url').replace(/[-_]/g, 'x').slice(0, length);
}
