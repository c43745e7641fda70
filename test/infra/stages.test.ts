import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';
import { readConfig } from '../../lib/config';
import { HrProvisioningStack, stackNameOf } from '../../lib/hr-provisioning-stack';
import { newApp, removeAssemblies, resourcesOf } from './infra-harness';

let assembly: CloudAssembly;
let dev: Template;
let prod: Template;

afterAll(removeAssemblies);

beforeAll(() => {
  const app = newApp();
  const stacks = ['dev', 'prod'].map((stage) => {
    const config = readConfig({
      tryGetContext: (key) => (key === 'stage' ? stage : app.node.tryGetContext(key)),
    });
    return new HrProvisioningStack(app, stackNameOf(stage), { config });
  });
  assembly = app.synth();
  [dev, prod] = stacks.map((stack) => Template.fromStack(stack)) as [Template, Template];
});

describe('two stages in one account', () => {
  it('synthesise side by side as HrProvisioning-<stage>', () => {
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'HrProvisioning-dev',
      'HrProvisioning-prod',
    ]);
  });

  it('name nothing physically the same', () => {
    const namesOf = (t: Template) => [
      ...resourcesOf(t, 'AWS::ApiGateway::RestApi').map(([, r]) => r.Properties.Name),
      ...resourcesOf(t, 'AWS::CloudWatch::Dashboard').map(([, r]) =>
        JSON.stringify(r.Properties.DashboardName),
      ),
      ...resourcesOf(t, 'AWS::Lambda::Function').map(
        ([, r]) =>
          (r.Properties.Environment as { Variables: Record<string, string> }).Variables
            .POWERTOOLS_SERVICE_NAME,
      ),
    ];
    const devNames = namesOf(dev);
    // The API, the dashboard and three functions (ingest, operator, worker).
    expect(devNames).toHaveLength(5);
    for (const name of namesOf(prod)) expect(devNames).not.toContain(name);
    // Tables, queues, functions, topics, log groups and secrets get generated names.
    for (const t of [dev, prod]) {
      for (const [type, property] of [
        ['AWS::DynamoDB::Table', 'TableName'],
        ['AWS::SQS::Queue', 'QueueName'],
        ['AWS::Lambda::Function', 'FunctionName'],
        ['AWS::SNS::Topic', 'TopicName'],
        ['AWS::Logs::LogGroup', 'LogGroupName'],
        ['AWS::SecretsManager::Secret', 'Name'],
      ] as const) {
        for (const [, resource] of resourcesOf(t, type))
          expect(resource.Properties[property]).toBeUndefined();
      }
    }
  });
});

describe('the app entry', () => {
  it('names the stack after the stage in context (`-c stage=prod`)', () => {
    const app = newApp({ stage: 'prod' });
    expect(buildApp(app).stackName).toBe('HrProvisioning-prod');
  });
});
