package dev.pekkodsm.serialization;

/**
 * Limits and switches for the DSM's Kryo, validated once when built.
 *
 * @param maxSnapshotBytes the largest payload a snapshot or message may have, in bytes
 * @param maxDepth the deepest object graph Kryo may walk before it refuses
 * @param references whether Kryo tracks shared and cyclic references (needed for graphs that are
 *     not trees; costs a little per object)
 * @param poolSize how many Kryo instances are kept for reuse
 */
public record SerializationSettings(
    int maxSnapshotBytes, int maxDepth, boolean references, int poolSize) {

  /** 16 MiB payloads, depth 256, references on, 32 pooled instances. */
  public static final SerializationSettings DEFAULTS =
      new SerializationSettings(16 * 1024 * 1024, 256, true, 32);

  /** The upper bound on {@link #maxSnapshotBytes}: slots are addressed with 32-bit lengths. */
  public static final int MAX_SNAPSHOT_BYTES_LIMIT = 1 << 30;

  public SerializationSettings {
    if (maxSnapshotBytes < 64 || maxSnapshotBytes > MAX_SNAPSHOT_BYTES_LIMIT) {
      throw new IllegalArgumentException(
          "maxSnapshotBytes="
              + maxSnapshotBytes
              + " must be in [64, "
              + MAX_SNAPSHOT_BYTES_LIMIT
              + "]");
    }
    if (maxDepth < 8) {
      throw new IllegalArgumentException("maxDepth=" + maxDepth + " must be >= 8");
    }
    if (poolSize < 1) {
      throw new IllegalArgumentException("poolSize=" + poolSize + " must be >= 1");
    }
  }
}
