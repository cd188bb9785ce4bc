package dev.pekkodsm.samples.kv;

import dev.pekkodsm.DsmCounters;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.testkit.LocalCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * pekko-dsm under test: {@link DsmKvStore} on an embedded {@link LocalCluster} whose nodes read
 * each other over the {@link DsmTransport} the run asks for ({@code pekko.dsm.transport}).
 *
 * <p>{@link #messagesSent()} counts the DSM protocol messages of every node and, over tcp, two
 * messages per one-sided operation (a read, a lock word's exchange, a value's write: the request to
 * the peer's read server and its reply); over shm they are memory operations and send nothing.
 */
final class DsmKv implements KvSystem {

  private final LocalCluster cluster;
  private final DsmTransport transport;
  private final List<KvClient> clients = new ArrayList<>();

  private DsmKv(LocalCluster cluster, KvSpec spec, DsmTransport transport) {
    this.cluster = cluster;
    this.transport = transport;
    DsmKvStore<Long, byte[]> first = DsmKvStore.create(cluster.dsm(0), spec.buckets());
    List<DsmKvStore<Long, byte[]>> stores = new ArrayList<>();
    stores.add(first);
    for (int i = 1; i < cluster.size(); i++) {
      stores.add(DsmKvStore.over(cluster.dsm(i), cluster.send(0, i, first.table().share())));
    }
    for (DsmKvStore<Long, byte[]> store : stores) {
      clients.add(
          new KvClient() {
            @Override
            public byte[] get(long key) {
              return store.get(key);
            }

            @Override
            public void set(long key, byte[] value) {
              store.set(key, value);
            }

            @Override
            public boolean delete(long key) {
              return store.delete(key);
            }
          });
    }
  }

  static KvSystem start(int nodes, KvSpec spec, DsmTransport transport) {
    return start(nodes, spec, transport, 0);
  }

  /** With each node's buckets backed up on another ({@code pekko.dsm.replication.factor = 1}). */
  static KvSystem startReplicated(int nodes, KvSpec spec, DsmTransport transport) {
    return start(nodes, spec, transport, 1);
  }

  private static KvSystem start(int nodes, KvSpec spec, DsmTransport transport, int factor) {
    LocalCluster cluster =
        LocalCluster.withNodes(nodes)
            .name("kv-dsm")
            .config(
                "pekko.dsm.transport = "
                    + transport.configName()
                    + "\npekko.dsm.replication.factor = "
                    + factor)
            .start();
    try {
      return new DsmKv(cluster, spec, transport);
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  @Override
  public int nodes() {
    return cluster.size();
  }

  @Override
  public KvClient client(int node) {
    return clients.get(node);
  }

  /**
   * The configured transport, once every node is checked to have read every peer it read with it
   * ({@link dev.pekkodsm.Dsm#transports()}).
   */
  @Override
  public String transport() {
    for (int i = 0; i < cluster.size(); i++) {
      for (Map.Entry<NodeId, String> peer : cluster.dsm(i).transports().entrySet()) {
        if (!peer.getValue().equals(transport.configName())) {
          throw new IllegalStateException(
              "node "
                  + i
                  + " reads node "
                  + peer.getKey()
                  + " over "
                  + peer.getValue()
                  + ", but the run was configured for "
                  + transport.configName());
        }
      }
    }
    return transport.configName();
  }

  @Override
  public long messagesSent() {
    long messages = 0;
    for (int i = 0; i < cluster.size(); i++) {
      DsmCounters counters = cluster.dsm(i).counters();
      messages += counters.messagesSent() + 2 * counters.tcpRequests();
    }
    return messages;
  }

  @Override
  public void close() {
    cluster.close();
  }
}
