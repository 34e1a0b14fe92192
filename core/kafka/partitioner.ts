/**
 * Explicit partitioning. Every record the hub writes names its partition, computed here, so the
 * partition of a key never depends on the client's default partitioner (librdkafka defaults to
 * CRC32 `consistent_random`, Java and KafkaJS to murmur2). This is Kafka's Java `Utils.murmur2`
 * over the UTF-8 key and `toPositive(hash) % partitions`, so a Java or Kafka Streams consumer that
 * re-partitions by the same key agrees with the hub.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (seed ^ length) | 0;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) + ((data[i4 + 1]! & 0xff) << 8) + ((data[i4 + 2]! & 0xff) << 16) + ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = length & 3;
  const base = length & ~3;
  if (rest === 3) h ^= (data[base + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[base + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[base]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of `key` among `partitions` (Java `Utils.toPositive(murmur2(key)) % n`). */
export function partitionFor(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer (got ${partitions})`);
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}
