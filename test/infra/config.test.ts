import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';
import { CONTEXT_KEYS, ConfigurationError, type ContextSource, readConfig } from '../../lib/config';
import { cdkJsonContext } from './infra-harness';

const contextOf = (values: Record<string, unknown>): ContextSource => ({
  tryGetContext: (key: string) => values[key],
});

const configErrorOf = (values: Record<string, unknown>): ConfigurationError => {
  try {
    readConfig(contextOf(values));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error(`expected ${JSON.stringify(values)} to be rejected`);
};

const tempFile = (name: string, content: string): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'hr-provisioning-config-')), name);
  writeFileSync(file, content);
  return file;
};

describe('readConfig', () => {
  it('has documented defaults for every setting', () => {
    const config = readConfig(contextOf({}));
    expect(config).toMatchObject({
      stage: 'dev',
      tfyProvisionMode: 'register',
      tfyDeleteAfterOffboard: false,
      tfyRateLimitRps: 20,
      workerMaxConcurrency: 5,
      workerBatchSize: 10,
      workerTimeoutSeconds: 60,
      workerMemoryMb: 512,
      ingestMemoryMb: 1024,
      maxAttempts: 5,
      maxReceiveCount: 100,
      retentionDays: 30,
      logRetentionDays: 30,
      removalPolicy: 'retain',
      apiThrottleRateLimit: 50,
      apiThrottleBurstLimit: 100,
      apiGatewayCloudWatchRole: true,
      roleMappingFile: 'config/role-mapping.json',
    });
    for (const unset of [
      'tfyAcceptInviteUrl',
      'tfyTenantName',
      'tfySecretArn',
      'ingestSecretArn',
      'alarmEmail',
    ]) {
      expect(config[unset as keyof typeof config]).toBeUndefined();
    }
    expect(config.roleMapping).toMatchObject({ default: ['tenant-member'] });
  });

  it('reads cdk.json, whose settings are all known context keys', () => {
    const context = cdkJsonContext();
    const settings = Object.keys(context).filter((key) => !key.startsWith('@aws-cdk'));
    expect(settings.filter((key) => !CONTEXT_KEYS.includes(key as (typeof CONTEXT_KEYS)[number]))).toEqual(
      [],
    );
    expect(readConfig(contextOf(context))).toEqual(readConfig(contextOf({})));
  });

  it('accepts the strings `-c key=value` gives', () => {
    const config = readConfig(
      contextOf({
        workerMaxConcurrency: '8',
        tfyRateLimitRps: '2.5',
        tfyDeleteAfterOffboard: 'true',
        stage: 'prod',
      }),
    );
    expect(config).toMatchObject({
      workerMaxConcurrency: 8,
      tfyRateLimitRps: 2.5,
      tfyDeleteAfterOffboard: true,
      stage: 'prod',
    });
  });

  it('rejects a worker concurrency below the SQS event source minimum of 2', () => {
    expect(configErrorOf({ workerMaxConcurrency: 1 }).message).toContain(
      'context "workerMaxConcurrency": must be at least 2 (got 1)',
    );
    expect(configErrorOf({ workerMaxConcurrency: '1' }).message).toContain('context "workerMaxConcurrency"');
  });

  it('takes BambooHR label overrides as an object or as JSON from -c, and rejects unknown fields', () => {
    expect(
      readConfig(contextOf({ bamboohrFieldLabels: { workEmail: 'Company Email' } })).bamboohrFieldLabels,
    ).toEqual({
      workEmail: 'Company Email',
    });
    expect(readConfig(contextOf({ bamboohrFieldLabels: '{"jobTitle":"Role"}' })).bamboohrFieldLabels).toEqual(
      {
        jobTitle: 'Role',
      },
    );
    expect(configErrorOf({ bamboohrFieldLabels: { email: 'x' } }).message).toContain('bamboohrFieldLabels');
  });

  it('rejects an unknown provision mode', () => {
    expect(configErrorOf({ tfyProvisionMode: 'email' }).message).toContain(
      `context "tfyProvisionMode": must be 'register' or 'invite' (got "email")`,
    );
  });

  it('requires the accept-invite URL in invite mode, and an https one', () => {
    expect(configErrorOf({ tfyProvisionMode: 'invite' }).message).toContain(
      `context "tfyAcceptInviteUrl": is required when tfyProvisionMode is 'invite'`,
    );
    expect(
      configErrorOf({ tfyProvisionMode: 'invite', tfyAcceptInviteUrl: 'http://acme.example/accept' }).message,
    ).toContain('context "tfyAcceptInviteUrl": must be an https:// URL');
    expect(
      readConfig(
        contextOf({ tfyProvisionMode: 'invite', tfyAcceptInviteUrl: 'https://acme.example/accept' }),
      ),
    ).toMatchObject({ tfyProvisionMode: 'invite' });
  });

  it('rejects values outside what AWS accepts, naming each key', () => {
    const message = configErrorOf({
      workerBatchSize: 11,
      workerTimeoutSeconds: 901,
      removalPolicy: 'keep',
      logRetentionDays: 31,
      stage: 'Prod_1',
      tfySecretArn: 'my-secret',
      alarmEmail: 'oncall',
      maxReceiveCount: 0,
      tfyRateLimitRps: 'fast',
    }).message;
    for (const expected of [
      'context "workerBatchSize": must be at most 10',
      'context "workerTimeoutSeconds": must be at most 900',
      `context "removalPolicy": must be 'retain' or 'destroy'`,
      'context "logRetentionDays": must be one of',
      'context "stage": must start with a lowercase letter',
      'context "tfySecretArn": must be a Secrets Manager secret ARN',
      'context "alarmEmail": must be an e-mail address',
      'context "maxReceiveCount": must be at least 2',
      'context "tfyRateLimitRps": must be a number',
    ]) {
      expect(message).toContain(expected);
    }
  });

  it('fails on a role-mapping file the validator rejects, with its message', () => {
    const file = tempFile(
      'role-mapping.json',
      JSON.stringify({ default: [], rules: [{ when: { department: '/[unclosed/' }, roles: ['x'] }] }),
    );
    const message = configErrorOf({ roleMappingFile: file }).message;
    expect(message).toContain('context "roleMappingFile": invalid role mapping');
    expect(message).toContain('default: must list at least one role');
  });

  it('fails on a role-mapping rule with a broken regular expression', () => {
    const file = tempFile(
      'role-mapping.json',
      JSON.stringify({
        default: ['tenant-member'],
        rules: [{ when: { title: '/(unclosed/' }, roles: ['x'] }],
      }),
    );
    expect(configErrorOf({ roleMappingFile: file }).message).toMatch(
      /context "roleMappingFile": invalid role mapping .*rules\.0\.when\.title: is not a valid regular expression/,
    );
  });

  it('fails on a role-mapping file that is not JSON or does not exist', () => {
    const broken = tempFile('role-mapping.json', '{ "default": ["tenant-member"], }');
    expect(configErrorOf({ roleMappingFile: broken }).message).toMatch(
      /context "roleMappingFile": .*role-mapping\.json is not valid JSON/,
    );
    expect(configErrorOf({ roleMappingFile: 'config/missing.json' }).message).toMatch(
      /context "roleMappingFile": cannot read .*config\/missing\.json: ENOENT/,
    );
  });
});

describe('the app entry', () => {
  it('fails synth on invalid context before building anything', () => {
    const app = new App({ context: { ...cdkJsonContext(), workerMaxConcurrency: '1' } });
    expect(() => buildApp(app)).toThrow(/context "workerMaxConcurrency": must be at least 2/);
    expect(app.node.children).toHaveLength(0);
  });
});
