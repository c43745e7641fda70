import type { WebhookIdStore, WebhookIdVerdict } from '../../ingest/webhook-ids';

/** WebhookIdStore in a Map: for tests. Expired ids are dropped as they are met. */
export class MemoryWebhookIds implements WebhookIdStore {
  private readonly ids = new Map<string, { fingerprint: string; expiresAtMs: number }>();

  async remember(
    id: string,
    fingerprint: string,
    expiresAtMs: number,
    nowMs: number,
  ): Promise<WebhookIdVerdict> {
    const known = this.ids.get(id);
    if (known && known.expiresAtMs > nowMs) {
      if (known.fingerprint !== fingerprint) return 'different';
      known.expiresAtMs = Math.max(known.expiresAtMs, expiresAtMs);
      return 'same';
    }
    this.ids.set(id, { fingerprint, expiresAtMs });
    return 'first';
  }

  /** The ids recorded and not yet expired at `nowMs`. */
  recorded(nowMs = Date.now()): string[] {
    return [...this.ids].filter(([, entry]) => entry.expiresAtMs > nowMs).map(([id]) => id);
  }
}
