import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../lib/config';
import { newApp, removeAssemblies, resourcesOf, synthStack } from './infra-harness';

afterAll(() => removeAssemblies());

/** The environment of each of the stack's functions, by its service name. */
const environments = (overrides: Record<string, unknown>) =>
  new Map(
    resourcesOf(synthStack(overrides).template, 'AWS::Lambda::Function').flatMap(([, fn]) => {
      const variables = (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      const service = String(variables?.POWERTOOLS_SERVICE_NAME ?? '');
      return service.startsWith('hr-provisioning-') ? [[service, variables ?? {}] as const] : [];
    }),
  );

describe('reconcileIgnore (RECONCILE_IGNORE)', () => {
  it('reads comma-separated globs from the command line, or a list from cdk.json; none by default', () => {
    expect(readConfig(newApp().node).reconcileIgnore).toEqual([]);
    expect(
      readConfig(newApp({ reconcileIgnore: ' svc-*@example.com , admin@example.com' }).node).reconcileIgnore,
    ).toEqual(['svc-*@example.com', 'admin@example.com']);
    expect(readConfig(newApp({ reconcileIgnore: ['ops?@example.com'] }).node).reconcileIgnore).toEqual([
      'ops?@example.com',
    ]);
  });

  it('refuses a glob with a space, naming the key', () => {
    expect(() => readConfig(newApp({ reconcileIgnore: ['svc bot@example.com'] }).node)).toThrow(
      /reconcileIgnore/,
    );
  });

  it('reaches the operator λ, which serves POST /reconcile, and no other function', () => {
    const set = environments({ reconcileIgnore: 'svc-*@example.com,admin@example.com' });
    const operator = [...set].find(([service]) => service.startsWith('hr-provisioning-operator-'));
    expect(operator?.[1].RECONCILE_IGNORE).toBe('svc-*@example.com,admin@example.com');
    for (const [service, variables] of set) {
      if (!service.startsWith('hr-provisioning-operator-'))
        expect(variables.RECONCILE_IGNORE).toBeUndefined();
    }
    for (const [, variables] of environments({})) expect(variables.RECONCILE_IGNORE).toBeUndefined();
  });
});
