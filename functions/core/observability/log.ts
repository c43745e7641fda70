import type { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { Log } from '../engine/ports';

/** The engine's Log port over a Powertools Logger, the one logger of both Lambda and the local runtime. */
export function powertoolsLog(logger: Logger): Log {
  const forward =
    (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, attributes?: Record<string, unknown>) =>
      attributes ? logger[level](message, attributes as LogAttributes) : logger[level](message);
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}
