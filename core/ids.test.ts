import { deterministicUlid, ulid, ulidTime, ULID_PATTERN } from './ids';

describe('ulid', () => {
  it('is a 26-character Crockford id whose time part is the time given', () => {
    const t = Date.UTC(2026, 11, 4, 19, 30);
    const id = ulid(t);
    expect(id).toMatch(ULID_PATTERN);
    expect(ulidTime(id)).toBe(t);
  });

  it('never repeats a random part, across many refills of the entropy pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(ulid(i).slice(10)); // 5,000 fresh draws × 10 bytes: 12 refills of the 4 KiB pool
    expect(seen.size).toBe(5000);
  });

  it('ids of one millisecond sort in the order they were made', () => {
    const ids = Array.from({ length: 1000 }, () => ulid(1_000_000));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
  });

  it('uses the random bytes given, and deterministic ids depend only on time and seed', () => {
    expect(ulid(0, new Uint8Array(10))).toBe('0000000000' + '0000000000000000');
    expect(deterministicUlid(1000, 'app:42')).toBe(deterministicUlid(1000, 'app:42'));
    expect(deterministicUlid(1000, 'app:42')).not.toBe(deterministicUlid(1000, 'app:43'));
  });
});
