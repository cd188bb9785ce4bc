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

  /**
   * Declared again so that every reader chooses: its transport's compound operation, or {@link
   * SyncAccess#readActiveStepwise} (a wrapper that forgot it would lose the compound silently).
   */
  @Override
  ActiveValue readActive(
      long cell, long object, int selectorBit, long knownColor, ReadBuffer out, long deadlineNs);

  /** Declared again, as {@link #readActive} is. */
  @Override
  long writeThenExchange(
      long cell,
      long object,
      int slotField,
      byte[] frame,
      int length,
      long expected,
      long update,
      long deadlineNs);

  /** Declared again, as {@link #readActive} is. */
  @Override
  ActiveValue exchangeThenRead(
      long cell,
      long object,
      int selectorBit,
      long expected,
      long update,
      long knownColor,
      ReadBuffer out,
      long deadlineNs);

  /**
   * The failure of a sync-region operation over a transport that has none, for readers that do not
   * implement them (every reader names its choice: a wrapper that forgot to delegate one would
   * otherwise turn one-sided writes into messages without a word).
   */
  static SyncFailedException noSyncOperations(String transport) {
    return new SyncFailedException(
        SyncStatus.UNAVAILABLE,
        "the " + transport + " transport does not operate on peers' sync regions");
  }

  /** Drops the reader's resources. */
  @Override
  void close();
}
