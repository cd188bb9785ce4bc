package dev.pekkodsm.samples.kv;

/**
 * One node's view of a key-value store under test: what a client thread on that node calls. Keys
 * are {@code long}s; values are byte arrays whose first eight bytes carry the version the harness
 * wrote ({@link KvValues}), so every system stores and returns exactly the same bytes.
 *
 * <p>Implementations are thread-safe: all client threads of a node share one client. Every call has
 * a deadline and throws instead of hanging.
 */
public interface KvClient {

  /**
   * The value stored under {@code key}, or {@code null} if there is none. The array may be shared
   * with other readers (caches return the copy they hold): callers must not modify it.
   */
  byte[] get(long key);

  /** Stores {@code value} under {@code key}; returns when the write is complete. */
  void set(long key, byte[] value);

  /** Removes {@code key}; returns whether it was present. */
  boolean delete(long key);
}
