import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { readConfig } from './config';
import { HrProvisioningStack, stackNameOf } from './hr-provisioning-stack';
import type { FunctionEntries } from './project-paths';

export interface BuildAppOptions {
  /** Handler entry files; defaults to functions/ingest.ts and functions/worker.ts. */
  readonly entries?: Partial<FunctionEntries>;
}

/**
 * Adds the stack of the stage named in context to the app, and the cdk-nag AwsSolutions and Serverless
 * packs as policy-validation plugins: an unacknowledged finding fails synth.
 */
export function buildApp(app: App, options: BuildAppOptions = {}): HrProvisioningStack {
  const config = readConfig(app.node);
  const stack = new HrProvisioningStack(app, stackNameOf(config.stage), {
    config,
    entries: options.entries,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return stack;
}
