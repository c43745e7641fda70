import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLocalConfig } from '../../local/config';
import { lockDataDir } from '../../local/data-dir-lock';
import { loadLocalSecrets, readLocalIngestToken } from '../../local/local-secrets';

describe('loadLocalConfig', () => {
  it('has the documented defaults', () => {
    expect(loadLocalConfig({})).toMatchObject({
      PORT: 8787,
      HOST: '127.0.0.1',
      TFY_RATE_LIMIT_RPS: 20,
      TFY_PROVISION_MODE: 'register',
      WORKER_CONCURRENCY: 16,
      MAX_RECEIVE_COUNT: 5,
      TFY_DELETE_AFTER_OFFBOARD: false,
    });
  });

  it('names every wrong variable at once', () => {
    const attempt = () =>
      loadLocalConfig({
        PORT: 'eighty',
        TFY_BASE_URL: 'https://acme.truefoundry.cloud',
        TFY_PROVISION_MODE: 'invite',
        WEBHOOK_SECRET: 'plain',
      });
    expect(attempt).toThrow(/PORT/);
    expect(attempt).toThrow(/TFY_API_KEY: is required when TFY_BASE_URL is set/);
    expect(attempt).toThrow(/TFY_ACCEPT_INVITE_URL: is required when TFY_PROVISION_MODE is invite/);
    expect(attempt).toThrow(/WEBHOOK_SECRET: must be a Standard Webhooks secret/);
  });
});

describe('BAMBOOHR_FIELD_LABELS', () => {
  it('takes label overrides for renamed BambooHR fields as JSON', () => {
    expect(
      loadLocalConfig({ BAMBOOHR_FIELD_LABELS: '{"workEmail":"Company Email"}' }).BAMBOOHR_FIELD_LABELS,
    ).toEqual({
      workEmail: 'Company Email',
    });
  });

  it.each([
    ['{"workEmail":', 'BAMBOOHR_FIELD_LABELS: must be a JSON object'],
    ['{"email":"Company Email"}', 'BAMBOOHR_FIELD_LABELS.email: is not a known field'],
    ['{"workEmail":" "}', 'BAMBOOHR_FIELD_LABELS.workEmail: must not be empty'],
  ])('refuses %s', (value, message) => {
    expect(() => loadLocalConfig({ BAMBOOHR_FIELD_LABELS: value })).toThrow(message);
  });
});

describe('local secrets and the data-directory lock', () => {
  it('generates missing secrets once, keeps them, and lets the environment override', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hrp-secrets-'));
    try {
      const first = loadLocalSecrets(loadLocalConfig({ DATA_DIR: dir }));
      expect(first.generated.sort()).toEqual(['bamboohrWebhookKey', 'ingestToken', 'webhookSecret']);
      expect(first.credentials.webhookSecret).toMatch(/^whsec_/);
      const second = loadLocalSecrets(loadLocalConfig({ DATA_DIR: dir }));
      expect(second.generated).toEqual([]);
      expect(second.credentials).toEqual(first.credentials);
      expect(readLocalIngestToken(dir)).toBe(first.credentials.ingestToken);
      const overridden = loadLocalSecrets(
        loadLocalConfig({ DATA_DIR: dir, INGEST_TOKEN: 'from-the-environment-123' }),
      );
      expect(overridden.credentials.ingestToken).toBe('from-the-environment-123');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a second runtime on the same folder but takes over a dead one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hrp-lock-'));
    try {
      // pid 1 is alive and is not this process.
      writeFileSync(join(dir, 'runtime.pid'), '1');
      expect(() => lockDataDir(dir)).toThrow(/another runtime \(pid 1\) is using/);
      writeFileSync(join(dir, 'runtime.pid'), '2147483646');
      const unlock = lockDataDir(dir);
      unlock();
      lockDataDir(dir)();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
