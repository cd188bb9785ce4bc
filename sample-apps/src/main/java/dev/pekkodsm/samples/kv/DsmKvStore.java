package dev.pekkodsm.samples.kv;

import dev.pekkodsm.DMut;
import dev.pekkodsm.DMutex;
import dev.pekkodsm.DVec;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.coherence.NodeId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A key-value store on pekko-dsm's public API, as a user would write it: a hash table whose buckets
 * are the mutexes of a {@link DVec}, spread round-robin over the nodes.
 *
 * <ul>
 *   <li>A GET reads its bucket one-sided ({@link DMutex#read}): no message to the bucket's node.
 *   <li>A SET or DELETE locks its bucket ({@link DMutex#lock}), changes it and unlocks, wherever
 *       the bucket lives: while nobody else holds the bucket that is one-sided too (a
 *       compare-and-exchange on its lock word, the bucket read only if another node changed it
 *       since, the new bucket written into its home's sync region, a compare-and-exchange that
 *       publishes it), no message; a locker that finds it held queues at its home.
 *   <li>{@link #setAll} loads many keys with one lock of each bucket.
 * </ul>
 *
 * <p>Linearizable per key: a GET returns the value the last completed SET committed, because {@link
 * DMutex#read} reads the value the last unlock published, and a SET returns only after the unlock
 * that published it.
 *
 * <p>One store handle per node: create it on one node with {@link #create}, send {@link #table()}
 * (or a {@link DVec#share()} of it) to the others in a message and wrap it there with {@link
 * #over}. Thread-safe: all threads of a node share one handle. Keys and values must be registered
 * with the DSM serializer ({@code Long}, {@code String} and {@code byte[]} are out of the box).
 *
 * @param <K> key type; its {@code hashCode} must be the same on every node (true of {@code Long},
 *     {@code String}, records of those)
 * @param <V> value type
 */
public final class DsmKvStore<K, V> implements AutoCloseable {

  private final DVec<DMutex<HashMap<K, V>>> table;
  private final List<DMutex<HashMap<K, V>>> buckets;

  private DsmKvStore(DVec<DMutex<HashMap<K, V>>> table) {
    this.table = table;
    this.buckets = table.toList(); // the bucket handles, resolved once
  }

  /** A new, empty store of {@code buckets} buckets spread over the cluster's nodes. */
  public static <K, V> DsmKvStore<K, V> create(Dsm dsm, int buckets) {
    return new DsmKvStore<>(
        dsm.<HashMap<K, V>>mutexVec(buckets, i -> new HashMap<>(), DVec.Placement.ROUND_ROBIN));
  }

  /** The store whose table arrived in a message on the node of {@code dsm}. */
  public static <K, V> DsmKvStore<K, V> over(Dsm dsm, DVec<DMutex<HashMap<K, V>>> table) {
    Objects.requireNonNull(dsm, "dsm");
    return new DsmKvStore<>(Objects.requireNonNull(table, "table"));
  }

  /** The table, to send to another node (send {@code table().share()} to keep this handle). */
  public DVec<DMutex<HashMap<K, V>>> table() {
    return table;
  }

  /** The value of {@code key}, or {@code null}; must not be modified. One one-sided read. */
  public V get(K key) {
    return buckets.get(bucketOf(key)).read(m -> m.get(key));
  }

  /** Stores {@code value} under {@code key}; returns once the bucket's new value is committed. */
  public void set(K key, V value) {
    Objects.requireNonNull(value, "value");
    try (DMut<HashMap<K, V>> bucket = buckets.get(bucketOf(key)).lock()) {
      bucket.get().put(key, value);
    }
  }

  /**
   * Stores every entry of {@code entries}, each bucket's under one lock of it; returns once all are
   * committed. Atomic per bucket, not as a whole.
   */
  public void setAll(Map<? extends K, ? extends V> entries) {
    Map<Integer, Map<K, V>> byBucket = new HashMap<>();
    entries.forEach(
        (k, v) ->
            byBucket
                .computeIfAbsent(bucketOf(k), b -> new HashMap<>())
                .put(k, Objects.requireNonNull(v, "value")));
    for (Map.Entry<Integer, Map<K, V>> e : byBucket.entrySet()) {
      try (DMut<HashMap<K, V>> bucket = buckets.get(e.getKey()).lock()) {
        bucket.get().putAll(e.getValue());
      }
    }
  }

  /** Removes {@code key}; returns whether it was present. */
  public boolean delete(K key) {
    try (DMut<HashMap<K, V>> bucket = buckets.get(bucketOf(key)).lock()) {
      return bucket.get().remove(key) != null;
    }
  }

  /** The node whose memory holds {@code key}'s bucket: where its GETs read and its SETs commit. */
  public NodeId homeOf(K key) {
    return buckets.get(bucketOf(key)).address().node();
  }

  /** Number of buckets. */
  public int buckets() {
    return buckets.size();
  }

  /** Lets go of this node's handle of the table; the store is freed when every handle has. */
  @Override
  public void close() {
    table.drop();
  }

  private int bucketOf(K key) {
    int h = Objects.requireNonNull(key, "key").hashCode();
    h ^= h >>> 16;
    h *= 0x7feb352d;
    h ^= h >>> 15;
    return Math.floorMod(h, buckets.size());
  }
}
