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
     * Starts the cluster of {@code nodes} nodes and an empty store sized for {@code spec}.
     *
     * @throws Exception if the cluster does not come up; nothing is left running then
     */
    KvSystem start(int nodes, KvSpec spec) throws Exception;
  }

  /** Number of nodes. */
  int nodes();

  /** The client of node {@code node}, shared by all client threads of that node. */
  KvClient client(int node);

  /**
   * Messages this system has sent between nodes so far, for messages per operation; {@code -1} when
   * the system gives no way to count them.
   */
  default long messagesSent() {
    return -1;
  }

  /** Tears the whole cluster down. */
  @Override
  void close();
}
