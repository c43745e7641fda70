import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyBambooHrSignature } from '../../../functions/core/ingest/bamboohr/signature';

const privateKey = 'whk_private_3f9a1c';
const body = '{"employees":[{"id":"4021","action":"Updated"}]}';
const nowMs = Date.parse('2026-11-28T16:33:30Z');
const timestamp = String(nowMs / 1000);

function sign(rawBody: string, ts: string, key = privateKey): string {
  return createHmac('sha256', key).update(rawBody).update(ts).digest('hex');
}

const valid = { rawBody: body, signature: sign(body, timestamp), timestamp, privateKey, nowMs };

function reasonOf(check: ReturnType<typeof verifyBambooHrSignature>): string {
  if (check.ok) throw new Error('expected the signature to be rejected');
  return check.reason;
}

describe('verifyBambooHrSignature', () => {
  it('accepts the HMAC of the raw body followed by the timestamp', () => {
    expect(verifyBambooHrSignature(valid)).toEqual({ ok: true });
  });

  it('accepts the body as a Buffer and the signature in upper case', () => {
    expect(
      verifyBambooHrSignature({
        ...valid,
        rawBody: Buffer.from(body),
        signature: valid.signature.toUpperCase(),
      }),
    ).toEqual({ ok: true });
  });

  it('accepts an ISO-8601 timestamp, signed as sent', () => {
    const iso = '2026-11-28T16:33:00+00:00';
    expect(verifyBambooHrSignature({ ...valid, timestamp: iso, signature: sign(body, iso) })).toEqual({
      ok: true,
    });
  });

  it('rejects a tampered body', () => {
    const reason = reasonOf(verifyBambooHrSignature({ ...valid, rawBody: body.replace('4021', '4022') }));
    expect(reason).toMatch(/does not match/);
  });

  it('rejects a signature made with another key, without revealing the key or the expected signature', () => {
    const reason = reasonOf(
      verifyBambooHrSignature({ ...valid, signature: sign(body, timestamp, 'other-key') }),
    );
    expect(reason).toMatch(/does not match/);
    expect(reason).not.toContain(privateKey);
    expect(reason).not.toContain(valid.signature);
  });

  it('rejects a signature over another timestamp', () => {
    const other = String(nowMs / 1000 - 10);
    expect(reasonOf(verifyBambooHrSignature({ ...valid, timestamp: other }))).toMatch(/does not match/);
  });

  it('rejects missing headers', () => {
    expect(reasonOf(verifyBambooHrSignature({ ...valid, signature: undefined }))).toMatch(
      /missing X-BambooHR-Signature/,
    );
    expect(reasonOf(verifyBambooHrSignature({ ...valid, signature: '  ' }))).toMatch(
      /missing X-BambooHR-Signature/,
    );
    expect(reasonOf(verifyBambooHrSignature({ ...valid, timestamp: undefined }))).toMatch(
      /missing X-BambooHR-Timestamp/,
    );
  });

  it('rejects signatures that are not 64 hex characters', () => {
    for (const signature of [
      'zz'.repeat(32),
      valid.signature.slice(0, 62),
      `${valid.signature}00`,
      `sha256=${valid.signature}`,
    ]) {
      expect(reasonOf(verifyBambooHrSignature({ ...valid, signature }))).toMatch(/not a 64-character hex/);
    }
  });

  it('rejects stale and future timestamps beyond the tolerance (replay)', () => {
    const at = (offsetSeconds: number) => {
      const ts = String(nowMs / 1000 + offsetSeconds);
      return verifyBambooHrSignature({ ...valid, timestamp: ts, signature: sign(body, ts) });
    };
    expect(at(-300)).toEqual({ ok: true });
    expect(at(300)).toEqual({ ok: true });
    expect(reasonOf(at(-301))).toMatch(/too old/);
    expect(reasonOf(at(301))).toMatch(/in the future/);
    const stale = String(nowMs / 1000 - 60);
    expect(
      reasonOf(
        verifyBambooHrSignature({
          ...valid,
          timestamp: stale,
          signature: sign(body, stale),
          toleranceSeconds: 30,
        }),
      ),
    ).toMatch(/too old/);
  });

  it('rejects a stale ISO-8601 timestamp and an unreadable one', () => {
    const iso = '2026-11-28T15:00:00Z';
    expect(
      reasonOf(verifyBambooHrSignature({ ...valid, timestamp: iso, signature: sign(body, iso) })),
    ).toMatch(/too old/);
    for (const ts of ['yesterday', '2026-11-28 16:33:30', '1.5e9']) {
      expect(
        reasonOf(verifyBambooHrSignature({ ...valid, timestamp: ts, signature: sign(body, ts) })),
      ).toMatch(/neither Unix seconds nor an ISO-8601/);
    }
  });

  it('rejects every request when no private key is configured', () => {
    expect(
      reasonOf(verifyBambooHrSignature({ ...valid, privateKey: '', signature: sign(body, timestamp, '') })),
    ).toMatch(/no webhook private key/);
  });
});
