import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentialRules, type LocalConfig } from '../functions/commons/settings';
import type { IngestCredentials } from '../functions/core/ingest/authenticate';
import { ensurePrivateDir, ensurePrivateFile } from './private-files';

type StoredSecrets = { webhookSecret: string; ingestToken: string; bamboohrWebhookKey: string };

/** The same rules as the environment's (settings.ts), for values kept in secrets.json by hand or by an older version. */
const STORED_SECRET_RULES = {
  webhookSecret: credentialRules.webhookSecret,
  ingestToken: credentialRules.ingestToken,
  bamboohrWebhookKey: credentialRules.bamboohrWebhookKey,
} satisfies Record<keyof StoredSecrets, unknown>;

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
    const problem = kept ? STORED_SECRET_RULES[name].safeParse(kept).error?.issues[0]?.message : undefined;
    if (problem !== undefined) {
      // Names the field and the file, never the value.
      throw new Error(`${path}: ${name} ${problem}; remove it from the file to have a strong one generated`);
    }
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
  ensurePrivateDir(config.DATA_DIR);
  if (generated.length > 0) writeFileSync(path, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  // The mode above applies to a new file only; one kept from before may be readable by others.
  ensurePrivateFile(path, false);
  return { credentials, generated };
}

/** The ingest token the CLI uses against the local runtime when none is given. */
export function readLocalIngestToken(dataDir: string): string | undefined {
  const path = join(dataDir, SECRETS_FILE);
  if (!existsSync(path)) return undefined;
  return (JSON.parse(readFileSync(path, 'utf8')) as Partial<StoredSecrets>).ingestToken;
}
