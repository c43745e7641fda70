import { describe, expect, it } from 'vitest';
import {
  ingestFunctionSettings,
  loadLocalConfig,
  readFunctionSettings,
} from '../../../functions/commons/settings';
import { ConfigurationError, type ContextSource, readConfig } from '../../../lib/config';

/* BAMBOOHR_TIME_ZONE in both runtimes' settings, and `bamboohrTimeZone` in the CDK context. */

const lambdaEnv = {
  TABLE_NAME: 'table',
  QUEUE_URL: 'https://sqs.example/queue',
  INGEST_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest',
};
const contextOf = (values: Record<string, unknown>): ContextSource => ({
  tryGetContext: (key: string) => values[key],
});

describe('BAMBOOHR_TIME_ZONE', () => {
  it('defaults to UTC in npm start and in the ingest λ, and keeps a zone Intl knows', () => {
    expect(loadLocalConfig({}).BAMBOOHR_TIME_ZONE).toBe('UTC');
    expect(loadLocalConfig({ BAMBOOHR_TIME_ZONE: ' ' }).BAMBOOHR_TIME_ZONE).toBe('UTC');
    expect(loadLocalConfig({ BAMBOOHR_TIME_ZONE: 'Asia/Kolkata' }).BAMBOOHR_TIME_ZONE).toBe('Asia/Kolkata');
    expect(readFunctionSettings(ingestFunctionSettings, lambdaEnv).BAMBOOHR_TIME_ZONE).toBe('UTC');
    expect(
      readFunctionSettings(ingestFunctionSettings, { ...lambdaEnv, BAMBOOHR_TIME_ZONE: 'America/New_York' })
        .BAMBOOHR_TIME_ZONE,
    ).toBe('America/New_York');
  });

  it('a typo fails at start, naming the variable and the value', () => {
    const message = /BAMBOOHR_TIME_ZONE: must be an IANA time zone name.*"Europe\/Berln"/;
    expect(() => loadLocalConfig({ BAMBOOHR_TIME_ZONE: 'Europe/Berln' })).toThrow(message);
    expect(() =>
      readFunctionSettings(ingestFunctionSettings, { ...lambdaEnv, BAMBOOHR_TIME_ZONE: 'Europe/Berln' }),
    ).toThrow(message);
  });
});

describe('the bamboohrTimeZone context', () => {
  it('is unset by default, takes a zone Intl knows, and fails synth on a typo', () => {
    expect(readConfig(contextOf({})).bamboohrTimeZone).toBeUndefined();
    expect(readConfig(contextOf({ bamboohrTimeZone: 'Europe/Berlin' })).bamboohrTimeZone).toBe(
      'Europe/Berlin',
    );
    expect(() => readConfig(contextOf({ bamboohrTimeZone: 'Europe/Berln' }))).toThrow(ConfigurationError);
    expect(() => readConfig(contextOf({ bamboohrTimeZone: 'Europe/Berln' }))).toThrow(/bamboohrTimeZone/);
  });
});
