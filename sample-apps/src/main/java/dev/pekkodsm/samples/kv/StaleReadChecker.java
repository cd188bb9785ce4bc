package dev.pekkodsm.samples.kv;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts stale reads: a GET that returned a value older than the last SET that had completed before
 * the GET began. Every SET gets a fresh version (carried in the value, {@link KvValues}) when it
 * begins; the checker notes, per key, how many SETs had completed by then, and when it completes,
 * its completion ordinal. A read is stale when it returns version {@code v} although a SET that
 * <em>began after {@code v} completed</em> had itself completed before the read began: that SET is
 * ordered after {@code v} by any linearization, so {@code v} was overwritten before the read
 * started. Writes that overlap are not ordered, so no correct system is ever flagged; a cache
 * serving a value after a later, non-overlapping write completed always is. A GET that returns
 * nothing counts as stale once the key's first SET (the load) has completed.
 *
 * <p>Thread-safe and wait-free for the client threads: a few atomic operations per call.
 */
public final class StaleReadChecker {

  private static final int PAGE_SHIFT = 16;
  private static final int PAGE_SIZE = 1 << PAGE_SHIFT;
  private static final int MAX_PAGES = 1 << 15; // 2^31 versions

  private final int keys;
  private final AtomicLong nextVersion = new AtomicLong(1);

  /** Per key: SETs completed so far. */
  private final AtomicLongArray completed;

  /** Per key: the largest "completed before it began" count among completed SETs, or -1. */
  private final AtomicLongArray newestCompletedStart;

  /** Per version: its completion ordinal within its key, 0 while not completed. */
  private final AtomicReferenceArray<AtomicLongArray> ordinals =
      new AtomicReferenceArray<>(MAX_PAGES);

  private final LongAdder reads = new LongAdder();
  private final LongAdder stale = new LongAdder();
  private final LongAdder malformed = new LongAdder();

  /** A checker for keys {@code 0..keys-1}. */
  public StaleReadChecker(int keys) {
    this.keys = keys;
    completed = new AtomicLongArray(keys);
    newestCompletedStart = new AtomicLongArray(keys);
    for (int i = 0; i < keys; i++) {
      newestCompletedStart.set(i, -1);
    }
  }

  /** A SET of {@code key} that begins now: its version, and what {@link #endWrite} needs. */
  public long beginWrite(long key, long[] startOut) {
    startOut[0] = completed.get(index(key));
    return nextVersion.getAndIncrement();
  }

  /** The SET of {@code version}, begun with {@code start}, has completed. */
  public void endWrite(long key, long version, long start) {
    int k = index(key);
    long ordinal = completed.incrementAndGet(k);
    page(version).set((int) (version & (PAGE_SIZE - 1)), ordinal);
    newestCompletedStart.accumulateAndGet(k, start, Math::max);
  }

  /** A GET of {@code key} that begins now; pass the result to {@link #endRead}. */
  public long beginRead(long key) {
    return newestCompletedStart.get(index(key));
  }

  /**
   * The GET of {@code key} begun with {@code begun} returned {@code value}; returns whether it was
   * stale.
   */
  public boolean endRead(long key, long begun, byte[] value) {
    reads.increment();
    long ordinal;
    if (value == null) {
      ordinal = 0;
    } else {
      if (!KvValues.isValueOf(key, value)) {
        malformed.increment();
        return false;
      }
      long version = KvValues.version(value);
      if (version <= 0 || version >= nextVersion.get()) {
        malformed.increment();
        return false;
      }
      ordinal = page(version).get((int) (version & (PAGE_SIZE - 1)));
      if (ordinal == 0) {
        return false; // its SET has not completed: it overlaps this GET
      }
    }
    if (begun >= ordinal) {
      stale.increment();
      return true;
    }
    return false;
  }

  /** GETs checked so far. */
  public long reads() {
    return reads.sum();
  }

  /** Stale GETs so far. */
  public long staleReads() {
    return stale.sum();
  }

  /** GETs that returned bytes that are no value of their key (corruption or a wrong key). */
  public long malformedReads() {
    return malformed.sum();
  }

  /** Versions handed out so far. */
  public long versions() {
    return nextVersion.get() - 1;
  }

  private int index(long key) {
    if (key < 0 || key >= keys) {
      throw new IllegalArgumentException("key " + key + " outside 0.." + (keys - 1));
    }
    return (int) key;
  }

  private AtomicLongArray page(long version) {
    int p = (int) (version >>> PAGE_SHIFT);
    if (p >= MAX_PAGES) {
      throw new IllegalStateException("more than 2^31 versions in one run");
    }
    AtomicLongArray page = ordinals.get(p);
    if (page == null) {
      ordinals.compareAndSet(p, null, new AtomicLongArray(PAGE_SIZE));
      page = ordinals.get(p);
    }
    return page;
  }
}
