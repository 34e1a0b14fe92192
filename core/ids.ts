import { createHash, randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encodeTime(ms: number): string {
  let out = '';
  let t = Math.floor(ms);
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  // 80 bits -> 16 base32 chars
  let bits = 0;
  let value = 0;
  let out = '';
  for (let i = 0; i < 10; i++) {
    value = (value << 8) | (bytes[i] ?? 0);
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/**
 * Random bytes for ids from a pool refilled 4 KiB at a time (as Node's own `randomUUID` caches its
 * entropy): one `randomBytes(10)` per id was a call into OpenSSL per delivery on the intake path.
 * Ids are not secrets; the bytes are still from the CSPRNG, each used once.
 */
const POOL = Buffer.allocUnsafe(4096);
let poolOffset = POOL.length;
function randomTen(): Uint8Array {
  if (poolOffset + 10 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const b = POOL.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return b;
}

let lastTime = -1;
const lastRandom = new Uint8Array(10);

/**
 * A ULID: 48-bit millisecond time + 80 random bits, lexicographically time-sortable. Without
 * `random`, ids of one process are monotonic (the ULID spec's monotonic mode): a second id in the
 * same millisecond is the previous one's random part + 1, so ids sort in creation order (the
 * dead-letter index relies on it; two ids in one millisecond used to sort by chance).
 */
export function ulid(timeMs: number, random?: Uint8Array): string {
  if (random) return encodeTime(timeMs) + encodeRandom(random);
  if (timeMs === lastTime && increment(lastRandom)) return encodeTime(timeMs) + encodeRandom(lastRandom);
  lastTime = timeMs;
  lastRandom.set(randomTen());
  return encodeTime(timeMs) + encodeRandom(lastRandom);
}

/** Adds 1 to an 80-bit big-endian number in place; false when it overflowed (then draw afresh). */
function increment(b: Uint8Array): boolean {
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] as number) < 255) {
      b[i] = (b[i] as number) + 1;
      return true;
    }
    b[i] = 0;
  }
  return false;
}

/** A ULID whose random part is derived from `seed`: the same (time, seed) always gives the same id. */
export function deterministicUlid(timeMs: number, seed: string): string {
  return ulid(timeMs, createHash('sha256').update(seed).digest().subarray(0, 10));
}

/** Milliseconds encoded in a ULID's time part. */
export function ulidTime(id: string): number {
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + CROCKFORD.indexOf(id[i] ?? '0');
  return t;
}

export const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
