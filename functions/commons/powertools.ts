import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { powertoolsLog } from '../core/privacy/redact';

// One instance each per cold start, shared by every invocation (Powertools' recommended pattern).
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'hr-provisioning' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'HrProvisioning',
});
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'hr-provisioning' });

/** The core's Log port over the logger: emails are redacted there unless LOG_EMAILS is true. */
export const log = powertoolsLog(logger);
