import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IngestCredentials } from '../functions/core/ingest/authenticate';
import type { LocalConfig } from './config';

type StoredSecrets = { webhookSecret: string; ingestToken: string; bamboohrWebhookKey: string };

export const SECRETS_FILE = 'secrets.json';

/**
 * Secrets from the environment, else from DATA_DIR/secrets.json, else generated once and kept there
 * (mode 0600) so that a restart, and the CLI on the same machine, keep working with the same values.
 */
export function loadLocalSecrets(config: LocalConfig): {
  credentials: IngestCredentials;
  generated: (keyof StoredSecrets)[];
} {
  const path = join(config.DATA_DIR, SECRETS_FILE);
  const stored: Partial<StoredSecrets> = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  const generated: (keyof StoredSecrets)[] = [];
  const value = (name: keyof StoredSecrets, fromEnv: string | undefined, make: () => string): string => {
    if (fromEnv) return fromEnv;
    const kept = stored[name];
    if (kept) return kept;
    stored[name] = make();
    generated.push(name);
    return stored[name];
  };
  const credentials: IngestCredentials = {
    webhookSecret: value(
      'webhookSecret',
      config.WEBHOOK_SECRET,
      () => `whsec_${randomBytes(24).toString('base64')}`,
    ),
    ingestToken: value('ingestToken', config.INGEST_TOKEN, () => randomBytes(24).toString('base64url')),
    bamboohrWebhookKey: value('bamboohrWebhookKey', config.BAMBOOHR_WEBHOOK_KEY, () =>
      randomBytes(24).toString('hex'),
    ),
    ...(config.BAMBOOHR_API_KEY ? { bamboohrApiKey: config.BAMBOOHR_API_KEY } : {}),
  };
  mkdirSync(config.DATA_DIR, { recursive: true });
  if (generated.length > 0) writeFileSync(path, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  return { credentials, generated };
}

/** The ingest token the CLI uses against the local runtime when none is given. */
export function readLocalIngestToken(dataDir: string): string | undefined {
  const path = join(dataDir, SECRETS_FILE);
  if (!existsSync(path)) return undefined;
  return (JSON.parse(readFileSync(path, 'utf8')) as Partial<StoredSecrets>).ingestToken;
}
