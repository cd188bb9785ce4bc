package dev.pekkodsm;

import static dev.pekkodsm.Fixtures.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.testkit.LocalClusterExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** DAtomicLong on a real three-node cluster. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AtomicLongTest {

  @RegisterExtension
  static final LocalClusterExtension cluster =
      LocalClusterExtension.withNodes(3, b -> Fixtures.registered(b));

  @Test
  void shouldCountEveryIncrementFromEveryNodeUnderContention() throws Exception {
    DAtomicLong counter = cluster.dsm(0).atomicLong(0);
    List<DAtomicLong> handles = new ArrayList<>(List.of(counter));
    for (int node = 1; node <= 2; node++) {
      handles.add(cluster.cluster().send(0, node, counter.clone()));
    }
    int perThread = 300;
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (DAtomicLong handle : handles) {
      for (int t = 0; t < 2; t++) {
        workers.add(
            CompletableFuture.runAsync(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    handle.incrementAndGet();
                  }
                }));
      }
    }
    CompletableFuture.allOf(workers.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
    long expected = 3L * 2 * perThread;
    for (DAtomicLong handle : handles) {
      assertEquals(expected, handle.get(), "every node sees every completed increment");
    }
    handles.subList(1, 3).forEach(DAtomicLong::drop);
    counter.drop();
  }

  @Test
  void shouldUpdateFromEveryNodeWithoutAMessage() throws Exception {
    DAtomicLong counter = cluster.dsm(2).atomicLong(0);
    DAtomicLong onA = cluster.cluster().send(2, 0, counter.clone());
    DAtomicLong onB = cluster.cluster().send(2, 1, counter.clone());
    long wire = cluster.cluster().awaitQuiet(Duration.ofMillis(300));
    DsmCounters before = cluster.dsm(0).counters();
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (DAtomicLong handle : List.of(onA, onB, counter)) {
      workers.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < 200; i++) {
                  handle.incrementAndGet();
                  handle.addAndGet(2);
                  long seen = handle.get();
                  while (!handle.compareAndSet(seen, seen + 1)) {
                    seen = handle.get();
                  }
                }
              }));
    }
    CompletableFuture.allOf(workers.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
    assertEquals(3L * 200 * 4, counter.get(), "exact under contention");
    assertEquals(wire, cluster.cluster().awaitQuiet(Duration.ofMillis(300)), "no message sent");
    assertTrue(
        cluster.dsm(0).counters().minus(before).oneSidedAtomics() >= 3 * 200,
        "node 1's updates were one-sided atomics");
    assertEquals(3L * 200 * 4, onA.getAndSet(7), "getAndSet from another node");
    assertEquals(7, onB.get());
    onA.drop();
    onB.drop();
    counter.drop();
  }

  @Test
  void shouldReadRemotelyWithoutAMessageAndSeeEachCompletedUpdate() {
    DAtomicLong counter = cluster.dsm(1).atomicLong(10);
    DAtomicLong onA = cluster.cluster().send(1, 0, counter.clone());
    DAtomicLong onC = cluster.cluster().send(1, 2, counter.clone());
    long wire = cluster.cluster().awaitQuiet(Duration.ofMillis(300));
    DsmCounters before = cluster.dsm(0).counters();
    assertEquals(10, onA.get());
    assertEquals(10, onA.get());
    assertEquals(2, cluster.dsm(0).counters().minus(before).oneSidedReads());
    assertEquals(wire, cluster.cluster().awaitQuiet(Duration.ofMillis(300)), "reads are silent");
    for (int i = 1; i <= 20; i++) {
      assertEquals(10 + i, onC.addAndGet(1), "an update from node 3");
      assertEquals(10 + i, onA.get(), "seen at once on node 1");
      assertEquals(10 + i, counter.get(), "and at the home");
    }
    onA.drop();
    onC.drop();
    counter.drop();
  }

  @Test
  void shouldCompareAndSetLocallyAndRemotely() {
    DAtomicLong home = cluster.dsm(0).atomicLong(5);
    DAtomicLong away = cluster.cluster().send(0, 1, home.clone());
    assertFalse(away.compareAndSet(4, 9));
    assertTrue(away.compareAndSet(5, 9));
    assertFalse(home.compareAndSet(5, 1));
    assertTrue(home.compareAndSet(9, 1));
    assertEquals(1, away.get());
    assertEquals(1, away.getAndAdd(2));
    assertEquals(3, home.getAndSet(7));
    assertEquals(6, away.decrementAndGet());
    assertEquals(
        7L, (long) away.incrementAndGetAsync().toCompletableFuture().join(), "the async twin");
    away.drop();
    home.drop();
  }

  @Test
  void shouldBeFreedWithItsLastHandleAndRefuseUseAfterDrop() {
    DAtomicLong home = cluster.dsm(2).atomicLong(1);
    DAtomicLong away = cluster.cluster().send(2, 0, home.clone());
    long object = home.address().object();
    home.drop();
    assertThrows(StaleReferenceException.class, home::incrementAndGet);
    assertEquals(2, away.incrementAndGet());
    away.drop();
    assertThrows(StaleReferenceException.class, away::get);
    eventually("freed at its home", 10, () -> cluster.dsm(2).internalNode().object(object) == null);
  }
}
