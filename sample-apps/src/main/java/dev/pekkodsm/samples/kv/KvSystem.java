package dev.pekkodsm.samples.kv;

/**
 * A key-value store running on a cluster of {@link #nodes()} nodes inside this JVM, under test.
 * Created by a {@link Factory}, loaded and driven by the harness through per-node {@link
 * KvClient}s, and closed (the whole cluster torn down) before the next system starts.
 */
public interface KvSystem extends AutoCloseable {

  /** Starts a system for one run. */
  @FunctionalInterface
  interface Factory {
    /**
     * Starts the cluster of {@code nodes} nodes and an empty store sized for {@code spec}; a
     * pekko-dsm system configures its nodes to read each other over {@code transport}, the others
     * ignore it.
     *
     * @throws Exception if the cluster does not come up; nothing is left running then
     */
    KvSystem start(int nodes, KvSpec spec, DsmTransport transport) throws Exception;
  }

  /** Number of nodes. */
  int nodes();

  /** The client of node {@code node}, shared by all client threads of that node. */
  KvClient client(int node);

  /**
   * What a GET of data homed on another node travels over in this run: {@code shm} or {@code tcp}
   * for pekko-dsm (its one-sided read transport), {@code tcp} for systems whose GETs are messages
   * over loopback, {@code none} for a system without nodes.
   *
   * @throws IllegalStateException if the system read over another transport than it was configured
   *     for (a result must never be published under the wrong transport)
   */
  String transport();

  /**
   * Messages this system has sent between nodes so far, counted now (no lag: the harness calls this
   * at the start and at the end of the measured window while the clients run, and divides the
   * difference by the operations completed in between); {@code -1} when the system gives no way to
   * count them.
   */
  default long messagesSent() {
    return -1;
  }

  /** Tears the whole cluster down. */
  @Override
  void close();
}
