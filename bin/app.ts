import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { ConfigurationError } from '../lib/config';

// `cdk synth -c stage=prod` and friends; the context keys are in lib/config.ts and docs/deploy.md.
try {
  buildApp(new App());
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  // A configuration mistake needs its message, not a stack trace.
  console.error(error.message);
  process.exitCode = 1;
}
