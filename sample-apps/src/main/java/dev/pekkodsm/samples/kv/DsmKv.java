package dev.pekkodsm.samples.kv;

import dev.pekkodsm.testkit.LocalCluster;
import java.util.ArrayList;
import java.util.List;

/** pekko-dsm under test: {@link DsmKvStore} on an embedded {@link LocalCluster}. */
final class DsmKv implements KvSystem {

  private final LocalCluster cluster;
  private final List<KvClient> clients = new ArrayList<>();

  private DsmKv(LocalCluster cluster, KvSpec spec, boolean batching) {
    this.cluster = cluster;
    DsmKvStore<Long, byte[]> first = DsmKvStore.create(cluster.dsm(0), spec.buckets());
    List<DsmKvStore<Long, byte[]>> stores = new ArrayList<>();
    stores.add(first);
    for (int i = 1; i < cluster.size(); i++) {
      stores.add(DsmKvStore.over(cluster.dsm(i), cluster.send(0, i, first.table().share())));
    }
    for (DsmKvStore<Long, byte[]> store : stores) {
      store.batching(batching);
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

  static KvSystem start(int nodes, KvSpec spec) {
    return start(nodes, spec, true);
  }

  /** Each write to another node as its own {@code DMutex.update}, to measure batching. */
  static KvSystem startUnbatched(int nodes, KvSpec spec) {
    return start(nodes, spec, false);
  }

  private static KvSystem start(int nodes, KvSpec spec, boolean batching) {
    LocalCluster cluster = LocalCluster.withNodes(nodes).name("kv-dsm").start();
    try {
      return new DsmKv(cluster, spec, batching);
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

  @Override
  public long messagesSent() {
    return cluster.messagesSent();
  }

  @Override
  public void close() {
    cluster.close();
  }
}
