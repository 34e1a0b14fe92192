import { createHmac, timingSafeEqual } from 'node:crypto';
import { PayloadError } from '../errors';

/**
 * Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256(id.timestamp.body)>`
 * (several space-separated signatures allowed, for key rotation), `webhook-id`, and
 * `webhook-timestamp` in Unix seconds, accepted within a tolerance on both sides.
 * Secrets are `whsec_<base64>` (the key is the decoded bytes) or any other string (used as UTF-8).
 */
export function secretKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

export function sign(secret: string, id: string, timestampSec: number, body: Buffer): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSec}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

export interface SignedHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export function verifySignature(secrets: string[], h: SignedHeaders, body: Buffer, nowMs: number, toleranceSec: number): void {
  if (!h.id || !h.timestamp || !h.signature) {
    const missing = [!h.id && 'webhook-id', !h.timestamp && 'webhook-timestamp', !h.signature && 'webhook-signature'].filter(Boolean).join(', ');
    throw new PayloadError('INTAKE_ERR_SIGNATURE', `missing signature header(s): ${missing}`, { dataPath: null });
  }
  if (!/^\d{1,12}$/.test(h.timestamp)) throw new PayloadError('INTAKE_ERR_SIGNATURE', 'webhook-timestamp must be Unix seconds');
  const ts = Number(h.timestamp);
  const skew = Math.abs(nowMs / 1000 - ts);
  if (skew > toleranceSec) {
    throw new PayloadError('INTAKE_ERR_STALE', `webhook-timestamp is ${Math.round(skew)} s away from now (tolerance ${toleranceSec} s)`);
  }
  const given = h.signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  for (const secret of secrets) {
    const expected = createHmac('sha256', secretKey(secret)).update(`${h.id}.${ts}.`).update(body).digest();
    for (const g of given) if (g.length === expected.length && timingSafeEqual(g, expected)) return;
  }
  throw new PayloadError('INTAKE_ERR_SIGNATURE', 'no webhook-signature matches the body');
}
