#!/usr/bin/env node
// The operator CLI is TypeScript like the rest of the project; tsx compiles it on the fly so that
// `npx hr-provisioning` works from a checkout without a build step.
import { register } from 'tsx/esm/api';

register();
await import('./cli/main.ts');
