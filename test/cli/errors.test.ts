import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCapturing, startTestRuntime, type TestRuntime } from './support/cli-harness';

/** A port nothing listens on: bound once by the OS, then released. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe('errors say what to do next', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime();
    writeFileSync(
      join(rt.workDir, 'one.json'),
      JSON.stringify({
        id: 'err-1',
        type: 'offboard',
        occurredAt: '2026-11-02T09:00:00Z',
        employee: { id: 'E', email: 'e@example.com' },
      }),
    );
  });
  afterAll(async () => {
    await rt.close();
  });

  it('connection refused on the local URL: start the runtime', async () => {
    const port = await unusedPort();

    const run = await runCapturing(['events'], {
      env: { PORT: String(port), INGEST_TOKEN: 'x'.repeat(20) },
      cwd: rt.workDir,
    });

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: no runtime at http://127.0.0.1:${port} — start it with \`npm start\`\n`);
  });

  it('a refused token: where to find the right one, and the token is never printed', async () => {
    const token = 'wrong-token-0123456789';

    const run = await rt.cli(['send', 'one.json', '--token', token]);
    const fromEnv = await rt.cli(['status', 'err-1'], { env: { ...rt.env, INGEST_TOKEN: token } });

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'error: the token was refused — pass --token or set INGEST_TOKEN (local: it is in data/secrets.json)\n',
    );
    expect(fromEnv.stderr).toContain('the token was refused');
    expect(run.stdout + run.stderr + fromEnv.stdout + fromEnv.stderr).not.toContain(token);
  });

  it('no token anywhere: says where one comes from, without calling the API', async () => {
    const run = await runCapturing(['send', 'one.json', '--url', 'https://hr.example.com'], {
      env: {},
      cwd: rt.workDir,
    });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no token: pass --token or set INGEST_TOKEN');
  });

  it('names the file that cannot be read', async () => {
    const run = await rt.cli(['send', 'missing.jsonl']);
    const folder = await rt.cli(['send', 'data']);

    expect(run.stderr).toBe('error: cannot read missing.jsonl: no such file\n');
    expect(folder.stderr).toBe('error: data is a directory; name a file\n');
  });

  it('unknown commands and options point at help', async () => {
    const unknown = await rt.cli(['deploy']);
    const badOption = await rt.cli(['status', 'x', '--colour']);

    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      'unknown command "deploy"; the commands are send, batch, status, events, dlq',
    );
    expect(badOption.code).toBe(1);
    expect(badOption.stderr).toContain("Unknown option '--colour'");
    expect(badOption.stderr).toContain('see: hr-provisioning status --help');
  });

  it('help prints usage with examples', async () => {
    const help = await rt.cli(['help']);
    const flag = await rt.cli(['--help']);
    const batch = await rt.cli(['batch', '--help']);
    const none = await rt.cli([]);

    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: hr-provisioning <command> [options]');
    expect(help.stdout).toContain('example: hr-provisioning send samples/events.jsonl');
    expect(flag.stdout).toBe(help.stdout);
    expect(batch.stdout).toContain(
      'usage: hr-provisioning batch <file.csv|file.jsonl> [--strict] [--chunk-rows N] [--restart]',
    );
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('usage: hr-provisioning');
  });
});
