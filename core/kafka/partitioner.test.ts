import { murmur2, partitionFor } from './partitioner';

describe('murmur2 (Kafka Utils.murmur2)', () => {
  // Test vectors of Kafka's own UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java)
  const vectors: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  it.each(vectors)('murmur2(%s) = %d', (s, want) => {
    expect(murmur2(Buffer.from(s, 'utf8'))).toBe(want);
  });

  it('partitions keys like the Java default partitioner and stays in range', () => {
    expect(partitionFor('foobar', 12)).toBe((-790332482 & 0x7fffffff) % 12);
    for (let i = 0; i < 1000; i++) {
      const p = partitionFor(`key-${i}`, 7);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(7);
    }
    expect(() => partitionFor('x', 0)).toThrow(RangeError);
  });

  it('hashes the UTF-8 bytes (Chinese keys)', () => {
    expect(partitionFor('d:A3区', 12)).toBe(partitionFor('d:A3区', 12));
    expect(murmur2(Buffer.from('区', 'utf8'))).not.toBe(murmur2(Buffer.from('A', 'utf8')));
  });
});
