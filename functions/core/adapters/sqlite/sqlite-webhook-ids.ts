import type Database from 'better-sqlite3';
import type { WebhookIdStore, WebhookIdVerdict } from '../../ingest/webhook-ids';

/*
 * webhook_ids: one row per webhook-id of a signed request, until its signature could no longer be
 * accepted. In the runtime's SQLite file rather than in memory so that a restart inside the five minutes
 * does not forget the ids (the window is short, but a crash loop would otherwise reopen it each time).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_ids (
  webhook_id TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
`;

/** Expired rows are swept at most this often, on the request path (a DELETE of a few rows). */
const SWEEP_EVERY_MS = 60_000;

type Row = { fingerprint: string; expiresAtMs: number };
type Params = { id: string; fingerprint: string; expiresAtMs: number; nowMs: number };

/** WebhookIdStore on the local runtime's SQLite file; creates its table if missing. */
export class SqliteWebhookIds implements WebhookIdStore {
  private readonly read: Database.Statement<[{ id: string }], Row>;
  private readonly upsert: Database.Statement<[Params]>;
  private readonly sweep: Database.Statement<[{ nowMs: number }]>;
  private readonly rememberNow: Database.Transaction<(params: Params) => WebhookIdVerdict>;
  private sweptAtMs = 0;

  constructor(db: Database.Database) {
    db.exec(SCHEMA);
    this.read = db.prepare(
      'SELECT fingerprint, expires_at_ms AS expiresAtMs FROM webhook_ids WHERE webhook_id = @id',
    );
    this.upsert = db.prepare(
      `INSERT INTO webhook_ids (webhook_id, fingerprint, expires_at_ms) VALUES (@id, @fingerprint, @expiresAtMs)
      ON CONFLICT (webhook_id) DO UPDATE SET fingerprint = excluded.fingerprint,
        expires_at_ms = CASE WHEN expires_at_ms <= @nowMs THEN excluded.expires_at_ms
          ELSE max(expires_at_ms, excluded.expires_at_ms) END`,
    );
    this.sweep = db.prepare('DELETE FROM webhook_ids WHERE expires_at_ms <= @nowMs');
    this.rememberNow = db.transaction((params: Params): WebhookIdVerdict => {
      const known = this.read.get({ id: params.id });
      const live = known !== undefined && known.expiresAtMs > params.nowMs;
      if (live && known.fingerprint !== params.fingerprint) return 'different';
      this.upsert.run(params);
      return live ? 'same' : 'first';
    });
  }

  async remember(
    id: string,
    fingerprint: string,
    expiresAtMs: number,
    nowMs: number,
  ): Promise<WebhookIdVerdict> {
    if (nowMs - this.sweptAtMs >= SWEEP_EVERY_MS) {
      this.sweptAtMs = nowMs;
      this.sweep.run({ nowMs });
    }
    return this.rememberNow.immediate({ id, fingerprint, expiresAtMs, nowMs });
  }
}
