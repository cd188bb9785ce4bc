package dev.pekkodsm.samples.dataframe;

import java.nio.file.Path;

/**
 * A system that answers the group-by questions over the table, started with the table loaded and
 * closed (its cluster torn down) before the next system starts.
 */
public interface FrameSystem extends AutoCloseable {

  /** Starts a system for one run. */
  @FunctionalInterface
  interface Factory {
    /**
     * Starts {@code nodes} nodes and loads the table in {@code file} into them.
     *
     * @throws Exception if the system does not come up; nothing is left running then
     */
    FrameSystem start(int nodes, Path file, GroupByShape shape) throws Exception;
  }

  /** Number of nodes. */
  int nodes();

  /**
   * Answers {@code q}, delivering the whole answer to the caller, and says how long answering took
   * by the system's measure (the whole call, except where the system says otherwise).
   */
  Answered answer(Question q) throws Exception;

  /** An answer and the nanoseconds it took. */
  record Answered(Answer answer, long nanos) {}

  /** Times {@code answer}: the whole call. */
  static Answered timed(java.util.concurrent.Callable<Answer> answer) throws Exception {
    long start = System.nanoTime();
    Answer a = answer.call();
    return new Answered(a, System.nanoTime() - start);
  }

  /** Bytes the system holds outside the Java heap (DuckDB's buffers), or 0. */
  default long offHeapBytes() {
    return 0;
  }

  /** Tears the system down. */
  @Override
  void close();
}
