import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { Log } from '../engine/ports';

/*
 * Telemetry (log lines, traces) names events and employees by their ids, never by email: an email in a log
 * line outlives every retention period the state store keeps, and log groups are read by more people than
 * the state is. Reasons written for operators (an email held by someone else, TrueFoundry echoing the
 * address it refused) do name the address: they are redacted here, at the one place every line passes.
 */

// Characters that never belong to an address in running text: separators of URLs, JSON, key:value pairs.
const NOT_IN_ADDRESS = String.raw`\s@<>()[\]{}"'\`,;:=?&/\\|%`;
const LABEL = `[^${NOT_IN_ADDRESS}.]+`;
/** An address in free text, also URL-encoded (`ada%40example.com` in a query string). */
const EMAIL_IN_TEXT = new RegExp(`[^${NOT_IN_ADDRESS}]+(?:@|%40)(?:${LABEL}\\.)+${LABEL}`, 'gi');

/**
 * A stable, short stand-in for an email: the same address always gives the same digest (lines about one
 * person can be followed, a suspected address checked by hashing it), and the address cannot be read back.
 */
export function emailDigest(email: string): string {
  return `<email:${shortHash(email.replace(/%40/i, '@').trim().toLowerCase(), 8)}>`;
}

/** The first `length` hex digits of SHA-256: a pseudonym for audit and log lines, never a secret. */
export function shortHash(text: string, length = 12): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** The text with every email replaced by its digest. */
export function redactEmails(text: string): string {
  return text.replace(EMAIL_IN_TEXT, (email) => emailDigest(email));
}

/**
 * A copy of a log attribute value with every email in its strings redacted, however deep: objects, arrays,
 * errors (message and stack). Other values are kept as they are; cycles are cut.
 */
export function redactValue(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactEmails(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (value instanceof Error) {
    const copy = new Error(redactEmails(value.message));
    copy.name = value.name;
    copy.stack = value.stack === undefined ? undefined : redactEmails(value.stack);
    return copy;
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, seen));
  if (value instanceof Date) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item, seen)]));
}

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
