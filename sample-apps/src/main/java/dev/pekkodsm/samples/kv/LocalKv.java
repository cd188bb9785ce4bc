package dev.pekkodsm.samples.kv;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The floor of the machine: one {@link ConcurrentHashMap} in this JVM, no cluster. Every "node"
 * gets the same client, so the same number of client threads share one map.
 */
final class LocalKv implements KvSystem {

  private final int nodes;
  private final KvClient client;

  private LocalKv(int nodes, KvSpec spec) {
    this.nodes = nodes;
    ConcurrentHashMap<Long, byte[]> map = new ConcurrentHashMap<>(spec.keys() * 2);
    client =
        new KvClient() {
          @Override
          public byte[] get(long key) {
            return map.get(key);
          }

          @Override
          public void set(long key, byte[] value) {
            map.put(key, value);
          }

          @Override
          public boolean delete(long key) {
            return map.remove(key) != null;
          }
        };
  }

  static KvSystem start(int nodes, KvSpec spec, DsmTransport ignored) {
    return new LocalKv(nodes, spec);
  }

  @Override
  public int nodes() {
    return nodes;
  }

  @Override
  public KvClient client(int node) {
    return client;
  }

  /** One map in this JVM: nothing travels. */
  @Override
  public String transport() {
    return "none";
  }

  @Override
  public long messagesSent() {
    return 0;
  }

  @Override
  public void close() {}
}
