import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '../errors';
import type { RawEnvelope } from '../schema/types';

/**
 * Sealing of raw bodies at rest. The raw archive and dead letters keep the exact bytes a source
 * sent (for replay), which include personal data; with `pii.rawKeyId` set, those bytes are
 * encrypted with AES-256-GCM under a named key, so the topics hold no readable personal data.
 */
export interface RawSealer {
  seal(body: Buffer): { body: string; bodyEncryption: NonNullable<RawEnvelope['bodyEncryption']> };
  open(env: Pick<RawEnvelope, 'body' | 'bodyEncryption'>): Buffer;
}

export function createRawSealer(keys: Record<string, string>, activeKeyId: string | null): RawSealer | null {
  const decoded = new Map<string, Buffer>();
  for (const [id, b64] of Object.entries(keys)) {
    const k = Buffer.from(b64, 'base64');
    if (k.length !== 32) throw new ConfigError(`pii.rawKeys.${id} must be 32 bytes, base64`, { dataPath: `/pii/rawKeys/${id}` });
    decoded.set(id, k);
  }
  if (activeKeyId === null) return null;
  const active = decoded.get(activeKeyId);
  if (!active) throw new ConfigError(`pii.rawKeyId "${activeKeyId}" is not in pii.rawKeys`, { dataPath: '/pii/rawKeyId' });
  return {
    seal(body) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', active, iv);
      const ct = Buffer.concat([c.update(body), c.final()]);
      return { body: ct.toString('base64'), bodyEncryption: { alg: 'A256GCM', keyId: activeKeyId, iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64') } };
    },
    open(env) {
      const data = Buffer.from(env.body, 'base64');
      if (!env.bodyEncryption) return data;
      const key = decoded.get(env.bodyEncryption.keyId);
      if (!key) throw new ConfigError(`no key "${env.bodyEncryption.keyId}" in pii.rawKeys to open this record`);
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(env.bodyEncryption.iv, 'base64'));
      d.setAuthTag(Buffer.from(env.bodyEncryption.tag, 'base64'));
      return Buffer.concat([d.update(data), d.final()]);
    },
  };
}
