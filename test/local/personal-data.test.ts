import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadLocalConfig } from '../../functions/commons/settings';
import { SqliteEventQueue } from '../../functions/core/adapters/sqlite/sqlite-event-queue';
import { type Log, silentLog } from '../../functions/core/engine/ports';
import { coversMessage } from '../../functions/core/privacy/forget-person';
import type { OutgoingMessage } from '../../functions/core/queue/event-queue';
import { openLocalDatabase } from '../../local/database';
import { SECRETS_FILE } from '../../local/local-secrets';
import { type Runtime, startRuntime } from '../../local/runtime';

const dirs: string[] = [];
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hrp-private-'));
  dirs.push(dir);
  return dir;
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

async function runtimeOn(dataDir: string, log: Log = silentLog): Promise<Runtime> {
  const runtime = await startRuntime(
    loadLocalConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'SILENT', TFY_RATE_LIMIT_RPS: '10000' }),
    log,
  );
  closers.push(() => runtime.close(1000));
  return runtime;
}

describe('the local data directory is private to its owner', () => {
  it('creates DATA_DIR 0700 and the database, its log and the secrets file 0600', async () => {
    const dataDir = join(tempDir(), 'data');
    await runtimeOn(dataDir);

    expect(modeOf(dataDir)).toBe(0o700);
    for (const file of ['pipeline.db', 'pipeline.db-wal', 'pipeline.db-shm', SECRETS_FILE]) {
      expect({ file, mode: modeOf(join(dataDir, file)).toString(8) }).toEqual({ file, mode: '600' });
    }
  });

  it('tightens a data directory and files an older version left readable by others', async () => {
    const dataDir = join(tempDir(), 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    const db = openLocalDatabase(join(dataDir, 'pipeline.db'));
    db.exec('CREATE TABLE t (x TEXT)');
    db.close();
    // As an older version left them: readable by every local user.
    chmodSync(dataDir, 0o755);
    for (const file of ['pipeline.db']) chmodSync(join(dataDir, file), 0o644);
    writeFileSync(join(dataDir, SECRETS_FILE), '{}\n', { mode: 0o644 });
    chmodSync(join(dataDir, SECRETS_FILE), 0o644);

    const warnings: { message: string; attributes?: Record<string, unknown> }[] = [];
    await runtimeOn(dataDir, {
      ...silentLog,
      warn: (message, attributes) => warnings.push({ message, attributes }),
    });

    expect(modeOf(dataDir)).toBe(0o700);
    for (const file of ['pipeline.db', 'pipeline.db-wal', 'pipeline.db-shm', SECRETS_FILE]) {
      expect({ file, mode: modeOf(join(dataDir, file)).toString(8) }).toEqual({ file, mode: '600' });
    }
    // Said once, at start, for each.
    expect(warnings.map((w) => [w.attributes?.path, w.attributes?.from, w.attributes?.to])).toEqual([
      [dataDir, '0755', '0700'],
      [join(dataDir, SECRETS_FILE), '0644', '0600'],
      [join(dataDir, 'pipeline.db'), '0644', '0600'],
    ]);
  });
});

const DAY_MS = 86_400_000;
const event = (id: string, employee: { id: string; email: string }): OutgoingMessage => ({
  eventId: id,
  groupId: employee.id === employee.email ? `email:${employee.email}` : `id:${employee.id}`,
  deduplicationId: id,
  body: JSON.stringify({ id, type: 'hire', occurredAt: '2026-11-02T09:00:00.000Z', employee }),
});
const ada = { id: 'E1', email: 'ada@example.com' };
const bob = { id: 'E2', email: 'bob@example.com' };
const subject = { personKeys: ['id:E1', 'email:ada@example.com'], emails: ['ada@example.com'] };

describe('local dead letters and queued messages of a person', () => {
  function queueAt(now: { ms: number }) {
    const queue = new SqliteEventQueue(openLocalDatabase(':memory:'), {
      visibilityTimeoutMs: 60_000,
      maxReceiveCount: 3,
      now: () => now.ms,
    });
    closers.push(() => queue.close());
    return queue;
  }

  it('expires dead letters as SQS does, 14 days after they were buried', async () => {
    const now = { ms: Date.UTC(2026, 10, 2) };
    const queue = queueAt(now);
    await queue.send([event('evt-1', ada), event('evt-2', bob)]);
    const [first] = await queue.receive(1, 0);
    if (!first) throw new Error('nothing received');
    queue.deadLetter(first, 'HTTP 422');
    now.ms += DAY_MS;
    const [second] = await queue.receive(1, 0);
    if (!second) throw new Error('nothing received');
    queue.deadLetter(second, 'HTTP 422');

    expect(queue.purgeExpiredDeadLetters(Date.UTC(2026, 10, 16))).toBe(0);
    expect(queue.purgeExpiredDeadLetters(Date.UTC(2026, 10, 16) + 1)).toBe(1);
    expect(queue.deadLetters().map((l) => l.eventId)).toEqual([second.eventId]);
    expect(queue.purgeExpiredDeadLetters(Date.UTC(2026, 10, 17) + 1)).toBe(1);
    expect(queue.deadLetters()).toEqual([]);
  });

  it('takes a person’s waiting messages and dead letters off at once, and lets their group move on', async () => {
    const now = { ms: Date.UTC(2026, 10, 2) };
    const queue = queueAt(now);
    await queue.send([event('evt-dead', ada)]);
    const [dead] = await queue.receive(1, 0);
    if (!dead) throw new Error('nothing received');
    queue.deadLetter(dead, 'HTTP 422');
    // An email-only event of the same human is in another group, and so is bob's.
    await queue.send([event('evt-1', ada), event('evt-2', ada), event('evt-bob', bob)]);
    await queue.send([event('evt-csv', { id: 'ada@example.com', email: 'ada@example.com' })]);

    expect(queue.forget((m) => coversMessage(subject, m))).toEqual({ queued: 3, deadLetters: 1 });

    expect(queue.deadLetters()).toEqual([]);
    expect(queue.depth()).toMatchObject({ queued: 1, inFlight: 0 });
    expect((await queue.receive(10, 0)).map((m) => m.eventId)).toEqual(['evt-bob']);
  });

  it('deletes nothing while one of the person’s messages is being processed', async () => {
    const queue = queueAt({ ms: Date.UTC(2026, 10, 2) });
    await queue.send([event('evt-1', ada), event('evt-2', ada)]);
    await queue.receive(1, 0);

    expect(queue.forget((m) => coversMessage(subject, m))).toEqual({ inFlight: ['evt-1'] });
    expect(queue.depth()).toMatchObject({ queued: 1, inFlight: 1 });
  });
});
