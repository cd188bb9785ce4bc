package dev.pekkodsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.Fixtures.Account;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.testkit.LocalCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which transport reads which peer ({@code pekko.dsm.transport}), and the foundation's scenarios
 * over each one, on real three-node clusters.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TransportSelectionTest {

  @TempDir Path dir;

  static LocalCluster start(java.util.function.UnaryOperator<LocalCluster.Builder> extra) {
    return extra.apply(Fixtures.registered(LocalCluster.withNodes(3))).start();
  }

  /**
   * Reads from every node, a move to a writer, a stale reference refused after a write, a value too
   * large to travel in a message (fetched one-sided from its old home), a mutex read: each checked
   * against the counters of the transport expected.
   */
  static void foundationScenarios(LocalCluster cluster, String transport) {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("ada", 10));
    DRef<Account> ref = box.share();
    for (int node = 1; node <= 2; node++) {
      DsmCounters before = cluster.dsm(node).counters();
      DRef<Account> there = cluster.send(0, node, ref.copy());
      assertEquals(new Account("ada", 10), there.get());
      DsmCounters delta = cluster.dsm(node).counters().minus(before);
      assertEquals(1, delta.oneSidedReads());
      assertEquals(1, readsOver(delta, transport), "read over " + transport + ": " + delta);
      assertEquals(transport, cluster.dsm(node).transports().get(cluster.nodeId(0)));
      there.release();
    }
    ref.release();

    DRef<Account> old = cluster.send(0, 2, box.share());
    assertEquals(10, old.get().balance());
    old.release(); // a write waits for lent references, as in Rust
    DBox<Account> onB = cluster.send(0, 1, box);
    onB.replace(a -> new Account(a.owner(), a.balance() + 1)); // moves the object to node 1
    assertEquals(cluster.nodeId(1), onB.address().node());
    assertThrows(StaleReferenceException.class, old::get);
    DRef<Account> fresh = cluster.send(1, 2, onB.share());
    assertEquals(11, fresh.get().balance());
    fresh.release();
    onB.drop();

    byte[] large = new byte[512 * 1024];
    Arrays.fill(large, (byte) 7);
    large[large.length - 1] = 9;
    DBox<byte[]> big = cluster.send(0, 2, cluster.dsm(0).alloc(large));
    DsmCounters before = cluster.dsm(2).counters();
    big.write(b -> b[0] = 1); // the value is past the inline limit: read from node 0's arena
    DsmCounters delta = cluster.dsm(2).counters().minus(before);
    assertTrue(readsOver(delta, transport) >= 1, "the moved value came over " + transport);
    big.read(
        b -> {
          assertEquals(1, b[0]);
          assertEquals(9, b[b.length - 1]);
          return null;
        });
    big.drop();

    DMutex<Account> mutex = cluster.dsm(0).mutex(new Account("m", 0));
    DMutex<Account> elsewhere = cluster.send(0, 2, mutex.clone());
    mutex.replace(a -> new Account("m", 5));
    assertEquals(5, elsewhere.read(Account::balance), "a mutex read over " + transport);
    elsewhere.drop();
    mutex.drop();
  }

  static long readsOver(DsmCounters c, String transport) {
    return switch (transport) {
      case "shm" -> c.shmReads();
      case "tcp" -> c.tcpReads();
      case "rdma" -> c.rdmaReads();
      default -> throw new IllegalArgumentException(transport);
    };
  }

  @Test
  void shouldReadSameHostPeersOverShmWhenAuto() {
    try (LocalCluster cluster = start(b -> b)) {
      foundationScenarios(cluster, "shm");
      assertEquals(0, cluster.dsm(1).counters().tcpReads());
    }
  }

  @Test
  void shouldReadEveryPeerOverTcpWhenTold() {
    try (LocalCluster cluster = start(b -> b.config("pekko.dsm.transport = tcp"))) {
      foundationScenarios(cluster, "tcp");
      for (int i = 0; i < 3; i++) {
        assertEquals(0, cluster.dsm(i).counters().shmReads(), "node " + i + " mapped nothing");
      }
    }
  }

  /**
   * Nodes whose arenas live in different directories do not share memory, whatever their IP
   * addresses say: auto must read them over tcp, as it would peers on other hosts.
   */
  @Test
  void shouldUseTcpForPeersWithAnotherHostIdentity() throws Exception {
    try (LocalCluster cluster =
        start(
            b -> {
              for (int i = 0; i < 3; i++) {
                Path own = dir.resolve("host-" + i);
                b.nodeConfig(
                    i, "pekko.dsm.arena.directory = \"" + own.toString().replace("\\", "/") + "\"");
              }
              return b;
            })) {
      foundationScenarios(cluster, "tcp");
      Map<NodeId, String> chosen = cluster.dsm(2).transports();
      assertEquals("tcp", chosen.get(cluster.nodeId(0)));
      assertTrue(Files.exists(dir.resolve("host-0").resolve("pekko-dsm-host-id")));
    }
  }

  /** A node whose tcp secret differs cannot read the others; the cluster says so at start. */
  @Test
  void shouldRefuseReadersWithoutTheSharedSecret() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                start(
                        b ->
                            b.config("pekko.dsm.transport = tcp")
                                .nodeConfig(0, "pekko.dsm.tcp.secret = \"right\"")
                                .nodeConfig(1, "pekko.dsm.tcp.secret = \"right\"")
                                .nodeConfig(2, "pekko.dsm.tcp.secret = \"wrong\""))
                    .close());
    assertTrue(e.getMessage().contains("refused the shared secret"), e.getMessage());
  }

  @Test
  void shouldReadOverTcpWithTheSharedSecret() {
    try (LocalCluster cluster =
        start(b -> b.config("pekko.dsm.transport = tcp\npekko.dsm.tcp.secret = \"s3cret\""))) {
      byte[] value = {1, 2, 3};
      DBox<byte[]> box = cluster.dsm(0).alloc(value);
      DRef<byte[]> ref = cluster.send(0, 1, box.share());
      assertArrayEquals(value, ref.get());
      assertEquals(1, cluster.dsm(1).counters().tcpReads());
      ref.release();
      box.drop();
    }
  }

  /**
   * This machine has no RDMA (no libdisni, no device): a node told to use rdma refuses to start and
   * says why, instead of running without the transport it was asked for.
   */
  @Test
  void shouldRefuseToStartWithRdmaWhereItIsUnavailable() {
    org.junit.jupiter.api.Assumptions.assumeFalse(
        dev.pekkodsm.memory.rdma.Rdma.isAvailable(), "RDMA is available here");
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                LocalCluster.withNodes(1)
                    .config("pekko.dsm.transport = rdma")
                    .startTimeout(java.time.Duration.ofSeconds(20))
                    .start()
                    .close());
    String message = String.valueOf(e.getMessage()) + " " + rootCause(e).getMessage();
    assertTrue(message.contains("RDMA is unavailable"), message);
    assertTrue(
        message.contains(
            dev.pekkodsm.memory.rdma.Rdma.unavailabilityCause().getMessage().substring(0, 20)),
        message);
  }

  static Throwable rootCause(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }
}
