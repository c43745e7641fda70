import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readConfig } from '../../lib/config';
import { HrProvisioningStack, stackNameOf } from '../../lib/hr-provisioning-stack';
import { PROJECT_ROOT } from '../../lib/project-paths';

export type Context = Record<string, unknown>;

/** The context of cdk.json (feature flags and settings), as `cdk synth` passes it to the app. */
export function cdkJsonContext(): Context {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Context };
  return cdkJson.context;
}

const assemblyDirs: string[] = [];

/** A fresh app with cdk.json's context plus overrides, writing its assembly to a temporary directory. */
export function newApp(overrides: Context = {}): App {
  const outdir = mkdtempSync(join(tmpdir(), 'hr-provisioning-cdk-'));
  assemblyDirs.push(outdir);
  return new App({ context: { ...cdkJsonContext(), ...overrides }, outdir });
}

/** Deletes the assemblies (a few MB of bundles each) this test file made; call it in afterAll. */
export function removeAssemblies(): void {
  for (const dir of assemblyDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** One stack as `cdk synth` would make it (no nag plugins), and its template. */
export function synthStack(overrides: Context = {}): {
  app: App;
  stack: HrProvisioningStack;
  template: Template;
} {
  const app = newApp(overrides);
  const config = readConfig(app.node);
  const stack = new HrProvisioningStack(app, stackNameOf(config.stage), { config });
  return { app, stack, template: Template.fromStack(stack) };
}

/** A template resource; every resource of this stack has Properties. */
export type Resource = { Type: string; Properties: Record<string, unknown>; [key: string]: unknown };

/** The template's resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.findResources(type) as Record<string, Resource>);
}

export type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
};

/** Every statement of the IAM policy attached to the role of a ServiceFunction (Ingest, Worker). */
export function policyStatementsOfRole(template: Template, roleLogicalIdPrefix: string): Statement[] {
  const policies = resourcesOf(template, 'AWS::IAM::Policy').filter(([, policy]) => {
    const roles = (policy.Properties.Roles ?? []) as { Ref: string }[];
    return roles.some((role) => role.Ref.startsWith(roleLogicalIdPrefix));
  });
  return policies.flatMap(
    ([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
  );
}

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

export const resourcesOfStatement = (statement: Statement): unknown[] =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

/** The logical id of the one resource of a type whose id starts with a prefix. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = resourcesOf(template, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  if (ids.length !== 1)
    throw new Error(`expected one ${type} named ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0] as string;
}
