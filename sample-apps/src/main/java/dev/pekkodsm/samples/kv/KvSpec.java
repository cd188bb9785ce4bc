package dev.pekkodsm.samples.kv;

/**
 * The shape of the data every system is started for: {@code keys} keys {@code 0..keys-1} whose
 * values are {@code valueBytes} long, spread over {@code buckets} buckets (entities, mutexes or
 * partitions, as the system calls them).
 */
public record KvSpec(int keys, int valueBytes, int buckets) {

  /** Checks the values. */
  public KvSpec {
    if (keys <= 0) {
      throw new IllegalArgumentException("keys=" + keys + " must be > 0");
    }
    if (valueBytes < KvValues.HEADER_BYTES) {
      throw new IllegalArgumentException(
          "valueBytes=" + valueBytes + " < " + KvValues.HEADER_BYTES + " (the version header)");
    }
    if (buckets <= 0) {
      throw new IllegalArgumentException("buckets=" + buckets + " must be > 0");
    }
  }

  /** The bucket {@code key} belongs to. */
  public int bucketOf(long key) {
    return (int) Math.floorMod(mix(key), (long) buckets);
  }

  /** A 64-bit finalizer (MurmurHash3's), so neighbouring keys land in different buckets. */
  static long mix(long key) {
    long h = key;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
