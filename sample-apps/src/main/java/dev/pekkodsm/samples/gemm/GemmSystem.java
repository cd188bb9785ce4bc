package dev.pekkodsm.samples.gemm;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A way of computing C = A x B on {@link #nodes()} nodes inside this JVM, under test. The harness
 * starts it, has it build the inputs where they live ({@link #load()}, not timed), times {@link
 * #multiply}, reads C back tile by tile for the checks, and closes it before the next system
 * starts.
 */
public interface GemmSystem extends AutoCloseable {

  /** Starts a system for one run. */
  @FunctionalInterface
  interface Factory {
    /**
     * Starts the cluster of {@code nodes} nodes for matrices of {@code spec}'s shape.
     *
     * @throws Exception if it does not come up; nothing is left running then
     */
    GemmSystem start(int nodes, GemmSpec spec) throws Exception;
  }

  /** What a system moved between nodes so far; {@code -1} where it cannot count. */
  record Traffic(long bytes, long messages) {
    /** The traffic since {@code earlier}. */
    Traffic minus(Traffic earlier) {
      return new Traffic(
          bytes < 0 || earlier.bytes < 0 ? -1 : bytes - earlier.bytes,
          messages < 0 || earlier.messages < 0 ? -1 : messages - earlier.messages);
    }
  }

  /** Number of nodes. */
  int nodes();

  /** Builds A and B (and wherever C will go) on the nodes. Not timed. */
  void load() throws Exception;

  /**
   * Units of work {@link #multiply} reports through its progress counter (C tiles, say), or {@code
   * -1} if it reports none.
   */
  long work();

  /** Computes C = A x B; counts finished units of work in {@code progress}. Timed. */
  void multiply(AtomicLong progress) throws Exception;

  /** Tile {@code index} of C, a copy the caller may keep. Only after {@link #multiply}. */
  double[] resultTile(int index) throws Exception;

  /**
   * Bytes and messages this system has sent between nodes so far, after letting what is still in
   * flight settle.
   */
  Traffic traffic();

  /** Tears everything down. */
  @Override
  void close();
}
