package dev.pekkodsm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pekkodsm.DAtomicLong;
import dev.pekkodsm.DMut;
import dev.pekkodsm.DMutex;
import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncStatus;
import dev.pekkodsm.memory.TcpTransport;
import dev.pekkodsm.memory.TransportUnavailableException;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import dev.pekkodsm.testkit.LocalCluster;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a hostile or confused client may send to a replicated node's tcp server on the replication
 * and home-change channels: every request is refused or answered with a status, nothing changes,
 * and the node goes on serving.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HomeSyncTest {

  static long soon() {
    return System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
  }

  @Test
  void shouldRefuseOrAnswerGarbageWithAStatusAndChangeNothing() throws Exception {
    try (LocalCluster cluster =
        LocalCluster.withNodes(2).config(ReplicationStreamingTest.FACTOR_ONE).start()) {
      ReplicationStreamingTest.awaitBackups(cluster);
      DsmNode home = ReplicationStreamingTest.node(cluster, 0);
      DMutex<long[]> mutex = cluster.dsm(0).mutex(new long[] {7});
      DAtomicLong atomic = cluster.dsm(0).atomicLong(40);
      long mutexId = mutex.address().object();
      long mutexCell = home.object(mutexId).mutexCell().cell();
      long atomicId = atomic.address().object();
      long atomicCell = home.object(atomicId).atomicCell().cell();
      Random random = new Random(12);
      try (TcpTransport tcp =
              new TcpTransport(new SnapshotCodec(home.kryo()), 1 << 20, home.settings().tcp);
          TcpTransport.Messenger link = tcp.messenger(home.endpoint())) {
        for (long channel : new long[] {ReplicaLink.CHANNEL, HomeSync.CHANNEL, 99}) {
          for (int length : new int[] {0, 3, 20, 64, 4096}) {
            byte[] garbage = new byte[length];
            random.nextBytes(garbage);
            TransportUnavailableException e =
                assertThrows(
                    TransportUnavailableException.class,
                    () -> link.send(channel, garbage, soon()),
                    "channel " + channel + ", " + length + " bytes");
            assertFalse(e.mayHaveArrived(), e.getMessage());
          }
        }
        HomeSync asked = new HomeSync(link, cluster.nodeId(1).value(), "node 0");
        byte[] notAFrame = new byte[100];
        random.nextBytes(notAFrame);
        assertEquals(
            SyncStatus.NOT_THIS_OBJECT,
            assertThrows(
                    SyncFailedException.class,
                    () -> asked.commit(mutexCell, mutexId, 0, notAFrame, 1, soon()))
                .status(),
            "bytes that are not the object's frame");
        assertEquals(
            SyncStatus.NOT_THIS_OBJECT,
            assertThrows(
                    SyncFailedException.class,
                    () -> asked.atomic(atomicCell, atomicId + 1, AtomicCell.Op.SET, 1, 0, soon()))
                .status(),
            "another object's cell");
        assertEquals(
            SyncStatus.OUT_OF_RANGE,
            assertThrows(
                    SyncFailedException.class,
                    () -> asked.atomic(1L << 40, atomicId, AtomicCell.Op.SET, 1, 0, soon()))
                .status(),
            "no such cell");
        assertEquals(
            new AtomicCell.Result(41, true),
            asked.atomic(atomicCell, atomicId, AtomicCell.Op.ADD_AND_GET, 1, 0, soon()),
            "a well-formed request is made");
      }
      assertEquals(41, atomic.get());
      try (DMut<long[]> held = mutex.lock()) {
        assertEquals(7, held.get()[0], "the mutex kept its value");
        held.get()[0] = 8;
      }
      assertEquals(42, cluster.send(0, 1, atomic.clone()).incrementAndGet(), "still served");
    }
  }
}
