package dev.pekkodsm.samples.kv;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A two-node store in one map, for tests of the harness itself; subclasses change what an operation
 * does by overriding {@link #get}, {@link #set} or {@link #delete}.
 */
class InMemoryKv implements KvSystem {

  final ConcurrentHashMap<Long, byte[]> map = new ConcurrentHashMap<>();

  byte[] get(long key) {
    return map.get(key);
  }

  void set(long key, byte[] value) {
    map.put(key, value);
  }

  boolean delete(long key) {
    return map.remove(key) != null;
  }

  @Override
  public int nodes() {
    return 2;
  }

  @Override
  public String transport() {
    return "none";
  }

  @Override
  public KvClient client(int node) {
    return new KvClient() {
      @Override
      public byte[] get(long key) {
        return InMemoryKv.this.get(key);
      }

      @Override
      public void set(long key, byte[] value) {
        InMemoryKv.this.set(key, value);
      }

      @Override
      public boolean delete(long key) {
        return InMemoryKv.this.delete(key);
      }
    };
  }

  @Override
  public void close() {}
}
