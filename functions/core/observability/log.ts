import type { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { Log } from '../engine/ports';
import { redactEmails, redactValue } from '../privacy/redact';

export type LogOptions = {
  /**
   * Write emails into log lines as they are, for debugging on a machine of one's own. Default: the
   * `LOG_EMAILS` environment variable is `true`; otherwise every email becomes a digest (`<email:…>`).
   */
  logEmails?: boolean;
};

/**
 * The engine's Log port over a Powertools Logger, the one logger of both Lambda and the local runtime, and
 * so the one chokepoint where emails leave log lines: messages and attributes (reasons, errors, TrueFoundry
 * answers that echo a request) are redacted here, whoever wrote them.
 */
export function powertoolsLog(logger: Logger, options: LogOptions = {}): Log {
  const logEmails = options.logEmails ?? process.env.LOG_EMAILS?.trim().toLowerCase() === 'true';
  const forward =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, attributes?: Record<string, unknown>) => {
      const text = logEmails ? message : redactEmails(message);
      if (!attributes) return logger[level](text);
      logger[level](text, (logEmails ? attributes : redactValue(attributes)) as LogAttributes);
    };
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}
