package dev.pekkodsm.samples.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.testkit.LocalCluster;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DsmKvStoreTest {

  static LocalCluster cluster;
  static List<DsmKvStore<Long, byte[]>> stores;

  @BeforeAll
  static void start() {
    cluster = LocalCluster.withNodes(3).name("kv-test").start();
    DsmKvStore<Long, byte[]> first = DsmKvStore.create(cluster.dsm(0), 12);
    stores = new ArrayList<>(List.of(first));
    for (int i = 1; i < 3; i++) {
      stores.add(DsmKvStore.over(cluster.dsm(i), cluster.send(0, i, first.table().share())));
    }
  }

  @AfterAll
  static void stop() {
    stores.forEach(DsmKvStore::close);
    cluster.close();
  }

  @Test
  void shouldGetSetAndDeleteFromEveryNode() {
    for (int writer = 0; writer < 3; writer++) {
      for (long key = 0; key < 30; key++) {
        long k = 1000 * (writer + 1) + key;
        stores.get(writer).set(k, KvValues.of(k, k, 40));
      }
    }
    for (int reader = 0; reader < 3; reader++) {
      for (int writer = 0; writer < 3; writer++) {
        for (long key = 0; key < 30; key++) {
          long k = 1000 * (writer + 1) + key;
          assertArrayEquals(KvValues.of(k, k, 40), stores.get(reader).get(k), "key " + k);
        }
      }
    }
    assertNull(stores.get(1).get(999L), "never written");
    assertTrue(stores.get(2).delete(1005L), "node 3 deletes what node 1 wrote");
    assertFalse(stores.get(0).delete(1005L), "gone");
    for (DsmKvStore<Long, byte[]> s : stores) {
      assertNull(s.get(1005L), "deleted everywhere");
    }
    Set<dev.pekkodsm.coherence.NodeId> homes = new HashSet<>();
    for (int b = 0; b < 12; b++) {
      homes.add(stores.get(0).table().nodeOf(b));
    }
    assertEquals(3, homes.size(), "buckets on every node");
  }

  @Test
  void shouldEndConcurrentSetsToOneKeyInOneOfTheWrittenValuesWithoutStaleReads() throws Exception {
    long key = 7;
    int perNode = 40;
    StaleReadChecker checker = new StaleReadChecker(8);
    List<CompletableFuture<Set<Long>>> nodes = new ArrayList<>();
    for (int n = 0; n < 3; n++) {
      DsmKvStore<Long, byte[]> store = stores.get(n);
      nodes.add(
          CompletableFuture.supplyAsync(
              () -> {
                Set<Long> written = new HashSet<>();
                long[] start = new long[1];
                for (int i = 0; i < perNode; i++) {
                  long version = checker.beginWrite(key, start);
                  store.set(key, KvValues.of(key, version, 64));
                  checker.endWrite(key, version, start[0]);
                  written.add(version);
                  long begun = checker.beginRead(key);
                  checker.endRead(key, begun, store.get(key));
                }
                return written;
              }));
    }
    Set<Long> written = new HashSet<>();
    for (CompletableFuture<Set<Long>> f : nodes) {
      written.addAll(f.get(90, TimeUnit.SECONDS));
    }
    assertEquals(3 * perNode, written.size());
    long last = KvValues.version(stores.get(0).get(key));
    assertTrue(written.contains(last), "the final value is one that was written");
    for (DsmKvStore<Long, byte[]> s : stores) {
      assertEquals(last, KvValues.version(s.get(key)), "every node reads the same final value");
    }
    assertEquals(3 * perNode, checker.reads());
    assertEquals(0, checker.staleReads(), "read-your-writes and no stale value, from every node");
    assertEquals(0, checker.malformedReads());
  }

  @Test
  void shouldLoadManyKeysWithOneLockPerBucketAndNoMessage() {
    java.util.Map<Long, byte[]> entries = new java.util.HashMap<>();
    for (long k = 50_000; k < 50_600; k++) {
      entries.put(k, KvValues.of(k, 1, 32));
    }
    long wire = cluster.awaitQuiet(java.time.Duration.ofMillis(300));
    stores.get(1).setAll(entries);
    long grown = cluster.awaitQuiet(java.time.Duration.ofMillis(300)) - wire;
    assertTrue(grown <= 2 * 12, "at most a request and a reply per bucket that outgrew its slot");
    entries.replaceAll((k, v) -> KvValues.of(k, 2, 32));
    stores.get(1).setAll(entries); // the same sizes: the buckets fit their slots now
    assertEquals(
        wire + grown, cluster.awaitQuiet(java.time.Duration.ofMillis(300)), "no message sent");
    for (int reader = 0; reader < 3; reader++) {
      for (long k = 50_000; k < 50_600; k += 37) {
        assertArrayEquals(entries.get(k), stores.get(reader).get(k), "key " + k);
      }
    }
  }
}
