package dev.pekkodsm.samples.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.nearcache.NearCacheStats;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The Hazelcast variants on three embedded members, one cluster per variant shared by its tests;
 * the last test of each variant closes it. Invalidation latencies are printed (to the Surefire
 * output file), not asserted.
 */
class HazelcastKvTest {

  private static final int NODES = 3;

  /**
   * Every key a test uses is below {@code keys}, as in the harness (the near cache holds that
   * many).
   */
  private static final KvSpec SPEC = new KvSpec(1024, 64, 16);

  /** Longer than Hazelcast's 10 s invalidation batch period, with room for a loaded machine. */
  private static final Duration VISIBILITY_TIMEOUT = Duration.ofSeconds(40);

  @Nested
  class Plain extends Conformance {
    Plain() {
      super(false, 1);
    }

    @Test
    @Order(4)
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldShowSetOnNodeZeroOnOtherNodesAtOnce() {
      long key = keyOwnedBy(0, 400);
      kv.client(0).set(key, KvValues.of(key, 1, SPEC.valueBytes()));
      assertEquals(1, KvValues.version(kv.client(1).get(key)));
      kv.client(0).set(key, KvValues.of(key, 2, SPEC.valueBytes()));
      for (int node = 1; node < NODES; node++) {
        byte[] value = kv.client(node).get(key);
        assertTrue(KvValues.isValueOf(key, value));
        assertEquals(2, KvValues.version(value), "node " + node);
      }
    }

    @Test
    @Order(5)
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldHaveNoNearCache() {
      for (int node = 0; node < NODES; node++) {
        assertNull(
            kv.member(node).getMap(HazelcastKv.MAP_NAME).getLocalMapStats().getNearCacheStats());
      }
    }
  }

  @Nested
  class NoBackup extends Conformance {
    NoBackup() {
      super(false, 0);
    }

    @Test
    @Order(4)
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldKeepEveryEntryOnOneMemberOnly() {
      for (long key = 0; key < 200; key++) {
        kv.client((int) (key % NODES)).set(key, KvValues.of(key, 1, SPEC.valueBytes()));
      }
      long owned = 0;
      for (int node = 0; node < NODES; node++) {
        var stats = kv.member(node).getMap(HazelcastKv.MAP_NAME).getLocalMapStats();
        assertEquals(0, stats.getBackupEntryCount(), "node " + node + " holds backups");
        owned += stats.getOwnedEntryCount();
      }
      assertEquals(200, owned);
      for (long key = 0; key < 200; key++) {
        assertTrue(kv.client(0).delete(key));
      }
    }
  }

  @Nested
  class NearCache extends Conformance {
    NearCache() {
      super(true, 1);
    }

    @Test
    @Order(4)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldShowSetOnNodeZeroOnOtherNodesAfterInvalidation() {
      // Owned by node 0, which also writes: nodes 1 and 2 only learn of it by invalidation.
      long key = keyOwnedBy(0, 400);
      kv.client(0).set(key, KvValues.of(key, 1, SPEC.valueBytes()));
      readTwiceOnOtherNodes(key, 1);
      kv.client(0).set(key, KvValues.of(key, 2, SPEC.valueBytes()));
      long[] loneMs = awaitVersionOnOtherNodes(key, 2);

      // The same, but the write is followed by a batch's worth (100) of writes on the same owner.
      List<Long> others = new ArrayList<>();
      for (long k = keyOwnedBy(0, key + 1); others.size() < 100; k = keyOwnedBy(0, k + 1)) {
        others.add(k);
      }
      readTwiceOnOtherNodes(key, 2);
      kv.client(0).set(key, KvValues.of(key, 3, SPEC.valueBytes()));
      for (long other : others) {
        kv.client(0).set(other, KvValues.of(other, 1, SPEC.valueBytes()));
      }
      long[] batchedMs = awaitVersionOnOtherNodes(key, 3);
      System.out.printf(
          "hazelcast-nearcache invalidation latency after set on node 0 (ms, nodes 1..%d):"
              + " lone write %s, write followed by 100 writes %s%n",
          NODES - 1, Arrays.toString(loneMs), Arrays.toString(batchedMs));
      for (long other : others) {
        kv.client(0).delete(other);
      }
    }

    @Test
    @Order(5)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldServeRepeatedReadsOfEveryKeyFromNearCacheWithoutEvicting() {
      for (long key = 0; key < SPEC.keys(); key++) {
        kv.client(0).set(key, KvValues.of(key, 1, SPEC.valueBytes()));
      }
      for (int node = 0; node < NODES; node++) {
        NearCacheStats before = nearCacheStats(node);
        long hitsBefore = before.getHits();
        for (int round = 0; round < 3; round++) {
          for (long key = 0; key < SPEC.keys(); key++) {
            assertTrue(KvValues.isValueOf(key, kv.client(node).get(key)));
          }
        }
        NearCacheStats after = nearCacheStats(node);
        String stats = "node " + node + ": " + after;
        // Every key, local ones included (cache-local-entries), is cached: the last round hits all.
        assertTrue(after.getHits() - hitsBefore >= SPEC.keys(), stats);
        assertEquals(SPEC.keys(), after.getOwnedEntryCount(), stats);
        assertEquals(0, after.getEvictions(), stats);
        assertEquals(0, after.getExpirations(), stats);
      }
      for (long key = 0; key < SPEC.keys(); key++) {
        kv.client(0).delete(key);
      }
    }

    private NearCacheStats nearCacheStats(int node) {
      NearCacheStats stats =
          kv.member(node).getMap(HazelcastKv.MAP_NAME).getLocalMapStats().getNearCacheStats();
      assertNotNull(stats, "node " + node + " has no near cache");
      return stats;
    }

    private void readTwiceOnOtherNodes(long key, long version) {
      for (int node = 1; node < NODES; node++) {
        for (int read = 0; read < 2; read++) {
          assertEquals(version, KvValues.version(kv.client(node).get(key)), "node " + node);
        }
      }
    }

    /** Polls nodes 1.. until each returns {@code version}; returns each node's wait in ms. */
    private long[] awaitVersionOnOtherNodes(long key, long version) {
      long startNs = System.nanoTime();
      long[] waitedMs = new long[NODES - 1];
      for (int node = 1; node < NODES; node++) {
        while (true) {
          byte[] value = kv.client(node).get(key);
          assertTrue(KvValues.isValueOf(key, value));
          if (KvValues.version(value) == version) {
            break;
          }
          assertTrue(KvValues.version(value) < version, "node " + node + " read a newer version");
          if (System.nanoTime() - startNs > VISIBILITY_TIMEOUT.toNanos()) {
            fail(
                "node "
                    + node
                    + " still reads version "
                    + KvValues.version(value)
                    + " of key "
                    + key
                    + " after "
                    + VISIBILITY_TIMEOUT);
          }
          sleepMillis(1);
        }
        waitedMs[node - 1] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
      }
      return waitedMs;
    }
  }

  /** The tests both variants pass; the system is started once and closed by the last test. */
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  abstract static class Conformance {

    private final boolean nearCache;
    private final int backupCount;
    HazelcastKv kv;

    Conformance(boolean nearCache, int backupCount) {
      this.nearCache = nearCache;
      this.backupCount = backupCount;
    }

    @BeforeAll
    void startCluster() {
      kv = HazelcastKv.start(NODES, SPEC, nearCache, backupCount);
    }

    @AfterAll
    void closeCluster() {
      if (kv != null) {
        kv.close();
      }
    }

    @Test
    @Order(1)
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldFormOneClusterOfThreeMembersOnLoopback() {
      assertEquals(NODES, kv.nodes());
      assertEquals(backupCount, kv.backupCount());
      assertEquals("tcp", kv.transport());
      for (int node = 0; node < NODES; node++) {
        HazelcastInstance member = kv.member(node);
        assertEquals(NODES, member.getCluster().getMembers().size());
        assertEquals(kv.clusterName(), member.getConfig().getClusterName());
        InetSocketAddress address = member.getCluster().getLocalMember().getSocketAddress();
        assertTrue(address.getAddress().isLoopbackAddress(), () -> "bound to " + address);
      }
    }

    @Test
    @Order(2)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldGetSetAndDeleteFromEveryNode() {
      for (int writer = 0; writer < NODES; writer++) {
        for (int owner = 0; owner < NODES; owner++) {
          // A key no node has read yet, so no near cache holds a copy of it. Only the writer reads
          // it while absent: a near cache caches misses too, and another node would go on reading
          // null until the invalidation of the set arrives (see the visibility tests).
          long key = keyOwnedBy(owner, 30L * (writer * NODES + owner));
          assertNull(kv.client(writer).get(key), "key " + key + " on node " + writer);
          byte[] value = KvValues.of(key, 7, SPEC.valueBytes());
          kv.client(writer).set(key, value);
          for (int node = 0; node < NODES; node++) {
            byte[] read = kv.client(node).get(key);
            assertNotNull(read, "key " + key + " on node " + node);
            assertTrue(KvValues.isValueOf(key, read), "key " + key + " on node " + node);
            assertEquals(7, KvValues.version(read));
            assertEquals(SPEC.valueBytes(), read.length);
          }
          assertTrue(kv.client(writer).delete(key), "delete of present key " + key);
          assertNull(kv.client(writer).get(key), "deleting node reads its own delete");
          for (int node = 0; node < NODES; node++) {
            assertFalse(kv.client(node).delete(key), "delete of absent key " + key);
          }
        }
      }
    }

    @Test
    @Order(3)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldCountEveryFrameOfRemoteSetsAtOnce() {
      long key = keyOwnedBy(0, 300);
      long before = kv.messagesSent();
      assertTrue(before >= 0, "messagesSent=" + before);
      int sets = 200;
      for (int i = 0; i < sets; i++) {
        kv.client(1).set(key, KvValues.of(key, i, SPEC.valueBytes()));
      }
      // Read right away, with no wait: every frame written so far is counted.
      long after = kv.messagesSent();
      long frames = after - before;
      // A set from a non-owner: the request, the response, a backup per backup copy, and the
      // backup's acknowledgement unless the backup is on the caller.
      long min = (2L + backupCount) * sets;
      long max = (2L + 2L * backupCount) * sets + sets / 4; // heartbeats, invalidation batches
      assertTrue(
          frames >= min && frames <= max,
          () -> frames + " frames for " + sets + " sets, expected " + min + ".." + max);
      System.out.printf(
          "%s (backup-count %d): %d frames for %d sets from a non-owner (%.2f per set)%n",
          nearCache ? HazelcastKv.NEAR_CACHE_NAME : HazelcastKv.NAME,
          backupCount,
          frames,
          sets,
          frames / (double) sets);
      assertTrue(kv.client(0).delete(key));
    }

    @Test
    @Order(Integer.MAX_VALUE)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldStopEveryMemberAndItsThreadsOnClose() {
      String threadPrefix = "hz." + kv.clusterName();
      kv.close();
      assertTrue(
          Hazelcast.getAllHazelcastInstances().isEmpty(),
          () -> "still running: " + Hazelcast.getAllHazelcastInstances());
      for (int node = 0; node < NODES; node++) {
        assertFalse(kv.member(node).getLifecycleService().isRunning(), "member " + node);
      }
      long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      List<String> alive = liveThreads(threadPrefix);
      while (!alive.isEmpty() && System.nanoTime() - deadlineNs < 0) {
        sleepMillis(50);
        alive = liveThreads(threadPrefix);
      }
      assertTrue(alive.isEmpty(), "threads left running: " + alive);
      kv.close();
    }

    /** A key of the given owner node, searching upward from {@code from}, within the spec. */
    long keyOwnedBy(int node, long from) {
      for (long key = from; key < SPEC.keys(); key++) {
        if (owner(key) == node) {
          return key;
        }
      }
      throw new IllegalStateException(
          "no key of node " + node + " in " + from + ".." + SPEC.keys());
    }

    /** The node whose member owns {@code key}'s partition. */
    int owner(long key) {
      Member owner = kv.member(0).getPartitionService().getPartition(key).getOwner();
      UUID uuid = owner.getUuid();
      for (int node = 0; node < NODES; node++) {
        if (kv.member(node).getCluster().getLocalMember().getUuid().equals(uuid)) {
          return node;
        }
      }
      throw new IllegalStateException("owner " + owner + " of key " + key + " is no node");
    }

    private static List<String> liveThreads(String prefix) {
      List<String> names = new ArrayList<>();
      for (Thread thread : Thread.getAllStackTraces().keySet()) {
        if (thread.isAlive() && thread.getName().startsWith(prefix)) {
          names.add(thread.getName());
        }
      }
      return names;
    }
  }

  private static void sleepMillis(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
