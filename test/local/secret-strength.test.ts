import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadLocalConfig } from '../../functions/commons/settings';
import { bamboohrWebhookKeyProblem, webhookSecretProblem } from '../../functions/core/ingest/authenticate';
import { loadLocalSecrets } from '../../local/local-secrets';

const ONE_BYTE_SECRET = `whsec_${Buffer.from('k').toString('base64')}`;
const STRONG_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/** The message of what `attempt` throws. */
function thrown(attempt: () => unknown): string {
  try {
    attempt();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected it to throw');
}

describe('weak secrets are refused at start-up, naming the variable and never its value', () => {
  it.each([
    ['a whsec_ key of one byte', 'WEBHOOK_SECRET', ONE_BYTE_SECRET, /at least 24 random bytes.*holds 1/],
    [
      'a whsec_ key of 23 bytes',
      'WEBHOOK_SECRET',
      `whsec_${Buffer.alloc(23, 1).toString('base64')}`,
      /holds 23/,
    ],
    ['a key that is not base64', 'WEBHOOK_SECRET', 'whsec_not*base64*at*all!', /followed by base64/],
    ['a BambooHR key of 15 characters', 'BAMBOOHR_WEBHOOK_KEY', 'k'.repeat(15), /at least 16 characters/],
    ['an ingest token of 15 characters', 'INGEST_TOKEN', 't'.repeat(15), /at least 16 characters/],
  ])('%s', (_name, variable, value, reason) => {
    const message = thrown(() => loadLocalConfig({ [variable]: value }));
    expect(message).toMatch(new RegExp(`${variable}: `));
    expect(message).toMatch(reason);
    expect(message).not.toContain(value);
    expect(message).not.toContain(value.replace(/^whsec_/, ''));
  });

  it('takes strong ones', () => {
    const config = loadLocalConfig({
      WEBHOOK_SECRET: STRONG_SECRET,
      BAMBOOHR_WEBHOOK_KEY: 'k'.repeat(16),
      INGEST_TOKEN: 't'.repeat(16),
    });
    expect(config).toMatchObject({ WEBHOOK_SECRET: STRONG_SECRET, BAMBOOHR_WEBHOOK_KEY: 'k'.repeat(16) });
  });
});

describe('TFY_BASE_URL: https, or http to this machine only', () => {
  it.each([
    'http://acme.truefoundry.cloud',
    'http://10.0.0.5:8080',
    'http://127.0.0.1.nip.io',
    'ftp://acme.truefoundry.cloud',
  ])('refuses %s', (url) => {
    const message = thrown(() => loadLocalConfig({ TFY_BASE_URL: url, TFY_API_KEY: 'key' }));
    expect(message).toMatch(/TFY_BASE_URL: must be (https|an https URL)/);
  });

  it.each([
    'https://acme.truefoundry.cloud',
    'http://127.0.0.1:8080',
    'http://127.5.6.7',
    'http://[::1]:9000',
    'http://localhost:3000',
  ])('takes %s', (url) => {
    expect(loadLocalConfig({ TFY_BASE_URL: url, TFY_API_KEY: 'key' }).TFY_BASE_URL).toBe(url);
  });
});

describe('local secrets file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'hrp-strength-'));
    dirs.push(dir);
    return dir;
  };

  it('generates secrets that pass the same rules', () => {
    const { credentials } = loadLocalSecrets(loadLocalConfig({ DATA_DIR: dataDir() }));
    expect(webhookSecretProblem(credentials.webhookSecret ?? '')).toBeUndefined();
    expect(bamboohrWebhookKeyProblem(credentials.bamboohrWebhookKey ?? '')).toBeUndefined();
    expect(credentials.ingestToken?.length).toBeGreaterThanOrEqual(32);
  });

  it('refuses a weak secret kept in secrets.json, naming the field and the file but not the value', () => {
    const dir = dataDir();
    writeFileSync(
      join(dir, 'secrets.json'),
      JSON.stringify({
        webhookSecret: ONE_BYTE_SECRET,
        ingestToken: 't'.repeat(32),
        bamboohrWebhookKey: 'k'.repeat(32),
      }),
    );
    const message = thrown(() => loadLocalSecrets(loadLocalConfig({ DATA_DIR: dir })));
    expect(message).toMatch(
      /secrets\.json: webhookSecret must be whsec_ followed by at least 24 random bytes/,
    );
    expect(message).not.toContain(ONE_BYTE_SECRET);
  });
});
