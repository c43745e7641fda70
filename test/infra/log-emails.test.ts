import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../lib/config';
import { newApp, removeAssemblies, resourcesOf, synthStack } from './infra-harness';

afterAll(() => removeAssemblies());

const environments = (overrides: Record<string, unknown>) =>
  resourcesOf(synthStack(overrides).template, 'AWS::Lambda::Function')
    .map(
      ([, fn]) =>
        (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables,
    )
    .filter((v): v is Record<string, unknown> =>
      String(v?.POWERTOOLS_SERVICE_NAME ?? '').startsWith('hr-provisioning-'),
    );

describe('logEmails (LOG_EMAILS)', () => {
  it('is off unless the context says true', () => {
    expect(readConfig(newApp().node).logEmails).toBe(false);
    expect(readConfig(newApp({ logEmails: 'true' }).node).logEmails).toBe(true);
  });

  it('reaches every function that logs when set, and none when not', () => {
    const on = environments({ logEmails: true });
    expect(on.length).toBeGreaterThanOrEqual(2);
    for (const variables of on) expect(variables.LOG_EMAILS).toBe('true');
    for (const variables of environments({})) expect(variables.LOG_EMAILS).toBeUndefined();
  });
});
