import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';
import { ConfigurationError, type ContextSource, readConfig } from '../../lib/config';
import { cdkJsonContext } from './infra-harness';

/*
 * The `policyFile` context key: read and resolved against the role mapping at synth by the runtime's own
 * code, so a mistake fails `cdk synth` with the path or the rule, long before an event meets it. (That the
 * resolved policy reaches both bundles is in bundle.test.ts, which synthesizes anyway.)
 */

const dir = mkdtempSync(join(tmpdir(), 'hr-provisioning-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fileOf = (name: string, content: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const contextOf = (values: Record<string, unknown>): ContextSource => ({
  tryGetContext: (key: string) => values[key],
});
const synthError = (values: Record<string, unknown>): string => {
  try {
    readConfig(contextOf(values));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(values)} to be refused`);
};

describe('context "policyFile"', () => {
  it('unset: no policy; the ceiling is the roles the role mapping grants, everything else open', () => {
    expect(readConfig(contextOf({})).policy).toEqual({
      allowedRoles: { tenant: ['tenant-member', 'tenant-admin'] },
      explicitRoles: ['webhook', 'token', 'batch', 'bamboohr', 'reconcile'],
      protectedAccounts: [],
    });
  });

  it('the shipped example resolves against the shipped role mapping', () => {
    const { policy, policyFile } = readConfig(contextOf({ policyFile: 'config/policy.json' }));
    expect(policyFile).toBe('config/policy.json');
    expect(policy).toEqual({
      file: 'config/policy.json',
      allowedRoles: {
        tenant: ['tenant-admin', 'tenant-member', 'tenant-viewer'],
        workspace: ['workspace-viewer', 'workspace-editor'],
      },
      explicitRoles: ['token', 'batch'],
      protectedAccounts: ['admin@example.com', 'svc-*@example.com'],
      allowedEmailDomains: ['example.com'],
    });
  });

  it('an invalid file fails synth naming the key and each path', () => {
    const file = fileOf('invalid.json', {
      explicitRoles: ['token', 'email'],
      protectedAccounts: ['root'],
      allowedEmailDomains: ['*.example.com'],
    });
    const message = synthError({ policyFile: file });
    expect(message).toContain(`context "policyFile": invalid policy ${file}`);
    expect(message).toContain('explicitRoles.1: must be one of webhook, token, batch, bamboohr, reconcile');
    expect(message).toContain('protectedAccounts.0: must be an email address');
    expect(message).toContain('allowedEmailDomains.0: must be a domain name');
  });

  it('a role mapping rule above the ceiling fails synth naming the rule', () => {
    const file = fileOf('narrow.json', { allowedRoles: { tenant: ['tenant-member'] } });
    expect(synthError({ policyFile: file })).toContain(
      `context "policyFile": the role mapping config/role-mapping.json grants roles outside allowedRoles of the policy ${file}: rules.0.roles: rule "ml-platform-leads" grants tenant-admin (tenant), which allowedRoles.tenant does not allow (tenant-member)`,
    );
  });

  it('a file that is not JSON, or is missing, fails synth', () => {
    expect(synthError({ policyFile: fileOf('broken.json', '{ "explicitRoles": [], }') })).toMatch(
      /context "policyFile": .*broken\.json is not valid JSON/,
    );
    expect(synthError({ policyFile: 'config/no-such-policy.json' })).toMatch(
      /context "policyFile": cannot read .*config\/no-such-policy\.json: ENOENT/,
    );
  });

  it('fails the app before anything is built', () => {
    const app = new App({
      context: { ...cdkJsonContext(), policyFile: fileOf('bad.json', { allowedRoles: [] }) },
    });
    expect(() => buildApp(app)).toThrow(
      /context "policyFile": invalid policy .*allowedRoles: must be a record/,
    );
    expect(app.node.children).toHaveLength(0);
  });
});
