import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLocalConfig } from '../../functions/commons/settings';
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
      MAX_ATTEMPTS: 5,
      MAX_RECEIVE_COUNT: 10,
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

  it('refuses a second runtime on the same folder, naming the holder, and lets the next one in once released', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hrp-lock-'));
    try {
      const unlock = lockDataDir(dir);
      expect(() => lockDataDir(dir)).toThrow(new RegExp(`another runtime \\(pid ${process.pid}\\) is using`));
      unlock();
      lockDataDir(dir)();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is free the moment its holder is killed with SIGKILL, zombie or not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hrp-lock-'));
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { lockDataDir } = await import(${JSON.stringify(new URL('../../local/data-dir-lock.ts', import.meta.url).href)});
         lockDataDir(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) =>
        holder.stdout?.on('data', (d: Buffer) => d.includes('locked') && resolve()),
      );
      expect(() => lockDataDir(dir)).toThrow(/another runtime \(pid \d+\) is using/);
      // Killed but not yet reaped (no wait for 'exit'): its pid may still look alive; the lock is gone.
      holder.kill('SIGKILL');
      await waitUntil(() => {
        try {
          lockDataDir(dir)();
          return true;
        } catch {
          return false;
        }
      });
    } finally {
      holder.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Polls a condition: the kernel releases a dead process's locks as it tears the process down. */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not met within 5 s');
}
