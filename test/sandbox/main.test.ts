import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { USERS_PATH } from '../../functions/core/truefoundry/api-contract';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Starts `tsx sandbox/main.ts` as `npm run sandbox` does, and resolves with the one line it prints. */
const startStandalone = async (
  env: Record<string, string>,
): Promise<{ child: ChildProcess; line: string }> => {
  const child = spawn(`${root}node_modules/.bin/tsx`, ['sandbox/main.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('\n')) resolve(output.trim());
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}: ${output}`)));
  });
  return { child, line };
};

describe('npm run sandbox', () => {
  it('prints its URL and key once, serves the API with the env faults, and exits 0 on SIGTERM', async () => {
    const { child, line } = await startStandalone({
      SANDBOX_PORT: '0',
      SANDBOX_API_KEY: 'standalone-key',
      SANDBOX_LATENCY_MS: '100-120',
    });
    try {
      const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
      expect(url).toBeDefined();
      expect(line).toContain('standalone-key');
      const started = performance.now();
      const reply = await fetch(`${url}/${USERS_PATH}`, {
        headers: { authorization: 'Bearer standalone-key' },
      });
      expect(reply.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(95);
      const faults = await (await fetch(`${url}/__sandbox/faults`)).json();
      expect(faults).toEqual({ latencyMs: { min: 100, max: 120 } });
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('generates a key when none is given and refuses a non-numeric setting', async () => {
    const { child, line } = await startStandalone({ SANDBOX_PORT: '0', SANDBOX_API_KEY: '' });
    child.kill('SIGINT');
    expect(line).toMatch(/API key sandbox-[0-9a-f]{24}$/);
    expect((await once(child, 'exit'))[0]).toBe(0);
    await expect(startStandalone({ SANDBOX_PORT: '0', SANDBOX_DROP_RATE: 'lots' })).rejects.toThrow(
      /SANDBOX_DROP_RATE must be a number/,
    );
  });
});
