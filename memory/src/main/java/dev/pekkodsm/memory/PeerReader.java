package dev.pekkodsm.memory;

/**
 * Reads slots of one peer's arena, and operates one-sided on its sync region ({@link SyncAccess}).
 * Thread-safe: many threads may read at once, each with its own {@link ReadBuffer}.
 */
public interface PeerReader extends SyncAccess, AutoCloseable {

  /** The arena this reader reads. */
  ArenaEndpoint endpoint();

  /** The name of the transport this reader uses ({@code shm}, {@code tcp}, {@code rdma}). */
  default String transport() {
    return "unknown";
  }

  /**
   * Copies the snapshot of {@code (endpoint().node(), object, color)} at {@code locator} into
   * {@code out} and checks it. Never blocks past {@code deadlineNs} (a {@link System#nanoTime()}
   * value).
   */
  ReadStatus read(long locator, long object, int color, ReadBuffer out, long deadlineNs);

  /**
   * The color of the snapshot of {@code (endpoint().node(), object)} at {@code locator}, if this
   * transport can tell it without copying the frame (shm reads the header under the seqlock);
   * {@code -1} otherwise, or if the slot holds no such snapshot: then {@link #read} it. For readers
   * holding a decoded copy of an object republished in place, to reuse it while its version is
   * current.
   */
  default long peekColor(long locator, long object, long deadlineNs) {
    return -1;
  }

  @Override
  default long load(long cell, long object, int field, long deadlineNs) {
    throw noSync();
  }

  @Override
  default long compareAndExchange(
      long cell, long object, int field, long expected, long update, long deadlineNs) {
    throw noSync();
  }

  @Override
  default long getAndAdd(long cell, long object, int field, long delta, long deadlineNs) {
    throw noSync();
  }

  @Override
  default void writeValue(long locator, byte[] frame, int length, long deadlineNs) {
    throw noSync();
  }

  @Override
  default ReadStatus readValue(
      long locator, long object, int color, ReadBuffer out, long deadlineNs) {
    throw noSync();
  }

  private SyncFailedException noSync() {
    return new SyncFailedException(
        SyncStatus.UNAVAILABLE,
        "the " + transport() + " transport does not operate on peers' sync regions");
  }

  /** Drops the reader's resources. */
  @Override
  void close();
}
