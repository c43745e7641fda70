import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../lib/config';
import { newApp, removeAssemblies, resourcesOf, synthStack } from './infra-harness';

afterAll(() => removeAssemblies());

describe('offboardGuardMax and offboardGuardWindowMinutes (OFFBOARD_GUARD_*)', () => {
  it('default to 25 per 60 minutes; 0 turns the guard off', () => {
    const defaults = readConfig(newApp().node);
    expect([defaults.offboardGuardMax, defaults.offboardGuardWindowMinutes]).toEqual([25, 60]);
    const off = readConfig(newApp({ offboardGuardMax: '0', offboardGuardWindowMinutes: '15' }).node);
    expect([off.offboardGuardMax, off.offboardGuardWindowMinutes]).toEqual([0, 15]);
  });

  it('refuses values beyond their limits, naming the key', () => {
    expect(() => readConfig(newApp({ offboardGuardMax: -1 }).node)).toThrow(/offboardGuardMax/);
    expect(() => readConfig(newApp({ offboardGuardMax: 501 }).node)).toThrow(/offboardGuardMax/);
    expect(() => readConfig(newApp({ offboardGuardWindowMinutes: 0 }).node)).toThrow(
      /offboardGuardWindowMinutes/,
    );
  });

  const { template } = synthStack({ offboardGuardMax: 3, offboardGuardWindowMinutes: 30 });

  it('reach the worker, which applies the guard, and no other function', () => {
    for (const [, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
      const variables =
        (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      const service = String(variables.POWERTOOLS_SERVICE_NAME ?? '');
      if (service.startsWith('hr-provisioning-worker-')) {
        expect(variables).toMatchObject({ OFFBOARD_GUARD_MAX: '3', OFFBOARD_GUARD_WINDOW_MINUTES: '30' });
      } else {
        expect(variables.OFFBOARD_GUARD_MAX).toBeUndefined();
      }
    }
  });

  it('raise an alarm to the alarm topic when anything is held (HeldEvents ≥ 1)', () => {
    const held = resourcesOf(template, 'AWS::CloudWatch::Alarm').filter(
      ([, alarm]) => alarm.Properties.MetricName === 'HeldEvents',
    );
    expect(held).toHaveLength(1);
    const properties = held[0]?.[1].Properties ?? {};
    expect(properties).toMatchObject({
      Namespace: 'HrProvisioning',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const topics = resourcesOf(template, 'AWS::SNS::Topic').map(([id]) => id);
    expect(properties.AlarmActions).toEqual([{ Ref: topics.find((id) => id.includes('AlarmTopic')) }]);
    expect(String(properties.AlarmDescription)).toContain('hr-provisioning holds list');
  });
});
