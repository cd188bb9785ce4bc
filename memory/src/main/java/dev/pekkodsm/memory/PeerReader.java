package dev.pekkodsm.memory;

/**
 * Reads slots of one peer's arena. Thread-safe: many threads may read at once, each with its own
 * {@link ReadBuffer}.
 */
public interface PeerReader extends AutoCloseable {

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

  /** Drops the reader's resources. */
  @Override
  void close();
}
