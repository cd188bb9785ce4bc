package dev.pekkodsm;

import static dev.pekkodsm.Fixtures.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.Fixtures.Counter;
import dev.pekkodsm.testkit.LocalCluster;
import dev.pekkodsm.testkit.LocalClusterExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** DMutex on a real three-node cluster. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MutexTest {

  @RegisterExtension
  static final LocalClusterExtension cluster =
      LocalClusterExtension.withNodes(
          3, b -> Fixtures.registered(b).config("pekko.dsm.borrow-timeout = 5s"));

  /** Handles to one mutex on each node: index i lives on node i. */
  static <T> List<DMutex<T>> everywhere(DMutex<T> home, int homeNode) {
    List<DMutex<T>> handles = new ArrayList<>();
    for (int node = 0; node < 3; node++) {
      handles.add(node == homeNode ? home : cluster.cluster().send(homeNode, node, home.clone()));
    }
    return handles;
  }

  @Test
  void shouldExcludeEveryOtherHolderWhileEveryNodeIncrements() throws Exception {
    DMutex<Counter> mutex = cluster.dsm(0).mutex(new Counter(4));
    List<DMutex<Counter>> handles = everywhere(mutex, 0);
    DAtomicLong inside = cluster.dsm(0).atomicLong(0);
    List<DAtomicLong> insides = new ArrayList<>();
    for (int node = 0; node < 3; node++) {
      insides.add(node == 0 ? inside : cluster.cluster().send(0, node, inside.clone()));
    }
    int perNode = 60;
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (int node = 0; node < 3; node++) {
      DMutex<Counter> m = handles.get(node);
      DAtomicLong in = insides.get(node);
      workers.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < perNode; i++) {
                  try (DMut<Counter> g = m.lock()) {
                    assertEquals(1, in.incrementAndGet(), "two holders at once");
                    g.get().bump();
                    in.decrementAndGet();
                  }
                }
              }));
    }
    CompletableFuture.allOf(workers.toArray(new CompletableFuture<?>[0]))
        .get(150, TimeUnit.SECONDS);
    for (DMutex<Counter> m : handles) {
      assertEquals(3L * perNode, (long) m.read(Counter::version), "every increment counted");
      assertTrue(m.read(Counter::consistent));
    }
    handles.forEach(DMutex::drop);
    insides.forEach(DAtomicLong::drop);
  }

  @Test
  void shouldServeLockersInTheOrderTheyAsked() throws Exception {
    DMutex<ArrayList<String>> mutex = cluster.dsm(1).mutex(new ArrayList<>());
    List<DMutex<ArrayList<String>>> handles = everywhere(mutex, 1);
    DMut<ArrayList<String>> held = mutex.lock();
    List<CompletableFuture<Void>> waiting = new ArrayList<>();
    String[] order = {"node 3", "node 1", "node 2 (home, another thread)", "node 3 again"};
    int[] from = {2, 0, 1, 2};
    for (int k = 0; k < order.length; k++) {
      String name = order[k];
      DMutex<ArrayList<String>> m = handles.get(from[k]);
      waiting.add(
          m.lockAsync()
              .thenAccept(
                  g -> {
                    g.get().add(name);
                    g.close();
                  })
              .toCompletableFuture());
      Thread.sleep(300); // let each request reach the home before the next is made
    }
    held.get().add("first");
    held.close();
    CompletableFuture.allOf(waiting.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
    List<String> expected = new ArrayList<>(List.of("first"));
    Collections.addAll(expected, order);
    assertEquals(expected, mutex.read(ArrayList::new));
    handles.forEach(DMutex::drop);
  }

  @Test
  void shouldReadOnlyCommittedValuesAndEveryUnlockThatCompleted() throws Exception {
    DMutex<Counter> mutex = cluster.dsm(2).mutex(new Counter(64));
    List<DMutex<Counter>> handles = everywhere(mutex, 2);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<String> torn = new AtomicReference<>();
    List<Thread> readers = new ArrayList<>();
    for (DMutex<Counter> m : handles) {
      Thread r =
          new Thread(
              () -> {
                long last = -1;
                while (!stop.get()) {
                  Counter c = m.read(x -> x);
                  if (!c.consistent()) {
                    torn.compareAndSet(null, "a half-done update was read");
                  }
                  if (c.version() < last) {
                    torn.compareAndSet(null, "a read went back in time");
                  }
                  last = c.version();
                }
              });
      r.start();
      readers.add(r);
    }
    for (int round = 0; round < 30; round++) {
      DMutex<Counter> writer = handles.get(round % 3);
      try (DMut<Counter> g = writer.lock()) {
        long next = g.get().version() + 1;
        for (int i = 0; i < g.get().cells.length; i++) {
          g.get().cells[i] = next; // the value is half done for a while
          if (i == 32) {
            Thread.sleep(1);
          }
        }
      }
      long committed = round + 1;
      for (DMutex<Counter> reader : handles) {
        assertEquals(
            committed,
            (long) reader.read(Counter::version),
            "a read that starts after the unlock completed sees it");
      }
    }
    stop.set(true);
    for (Thread r : readers) {
      r.join();
    }
    assertNull(torn.get());
    handles.forEach(DMutex::drop);
  }

  @Test
  void shouldDecodeEachCommittedVersionOncePerNode() {
    DMutex<ArrayList<String>> mutex = cluster.dsm(0).mutex(new ArrayList<>(List.of("a")));
    DMutex<ArrayList<String>> onB = cluster.cluster().send(0, 1, mutex.clone());
    DsmCounters before = cluster.dsm(1).counters();
    List<String> first = onB.read(v -> v);
    List<String> second = onB.read(v -> v);
    DsmCounters d = cluster.dsm(1).counters().minus(before);
    assertEquals(List.of("a"), first);
    assertTrue(first == second, "the same version is decoded once and shared");
    assertEquals(2, d.oneSidedReads(), "every read still copies and checks the snapshot");
    assertEquals(1, d.cacheHits(), "the second read found the decoded version");

    mutex.update(v -> v.add("b"));
    List<String> third = onB.read(v -> v);
    assertEquals(List.of("a", "b"), third, "a new version is read, never the cached one");
    assertEquals(List.of("a"), first, "the old version's value is untouched");
    assertTrue(third == onB.read(v -> v));
    try (DMut<ArrayList<String>> g = onB.lock()) {
      g.get().add("c"); // the locker's copy is its own, not the shared one
    }
    assertEquals(List.of("a", "b"), third);
    assertEquals(List.of("a", "b", "c"), mutex.read(v -> v));
    onB.drop();
    mutex.drop();
  }

  @Test
  void shouldFindTheSnapshotAfterItOutgrewItsSlot() {
    DMutex<ArrayList<String>> mutex = cluster.dsm(0).mutex(new ArrayList<>(List.of("a")));
    DMutex<ArrayList<String>> onB = cluster.cluster().send(0, 1, mutex.clone());
    assertEquals(1, (int) onB.read(List::size));
    try (DMut<ArrayList<String>> g = mutex.lock()) {
      for (int i = 0; i < 2000; i++) {
        g.get().add("grown " + i);
      }
    }
    assertEquals(2001, (int) onB.read(List::size));
    try (DMut<ArrayList<String>> g = onB.lock()) {
      g.get().clear();
    }
    assertEquals(0, (int) mutex.read(List::size));
    onB.drop();
    mutex.drop();
  }

  @Test
  void shouldGiveUpALockAfterTheBorrowTimeout() {
    DMutex<Counter> mutex = cluster.dsm(0).mutex(new Counter(1));
    DMutex<Counter> onB = cluster.cluster().send(0, 1, mutex.clone());
    try (DMut<Counter> held = mutex.lock()) {
      var e = assertThrows(BorrowConflictException.class, onB::lock);
      assertTrue(e.getMessage().contains("lock"), e.getMessage());
      assertTrue(onB.<Boolean>read(c -> true), "reads never wait for the lock");
      held.get().bump();
    }
    try (DMut<Counter> g = onB.lock()) {
      assertEquals(1, g.get().version());
    }
    onB.drop();
    mutex.drop();
  }

  @Test
  void shouldReleaseTheLockOfANodeThatDiesHoldingIt() throws Exception {
    try (LocalCluster own =
        Fixtures.registered(LocalCluster.withNodes(3))
            .config("pekko.dsm.borrow-timeout = 30s")
            .start()) {
      DMutex<Counter> mutex = own.dsm(0).mutex(new Counter(2));
      DMutex<Counter> onC = own.send(0, 2, mutex.clone());
      try (DMut<Counter> g = mutex.lock()) {
        g.get().bump(); // committed: version 1
      }
      DMut<Counter> dying = onC.lock();
      dying.get().bump();
      dying.get().bump(); // never committed
      CompletableFuture<DMut<Counter>> next = mutex.lockAsync().toCompletableFuture();
      Thread.sleep(300);
      assertTrue(!next.isDone(), "node 3 holds the lock");
      own.crash(2);
      try (DMut<Counter> g = next.get(25, TimeUnit.SECONDS)) {
        assertEquals(1, g.get().version(), "the last committed value stands");
      }
    }
  }

  @Test
  void shouldLockChangeAndUnlockFromAnotherNodeWithoutAMessage() {
    DMutex<Counter> mutex = cluster.dsm(0).mutex(new Counter(128)); // 1 KiB of cells
    DMutex<Counter> onB = cluster.cluster().send(0, 1, mutex.clone());
    assertEquals(0, (long) onB.read(Counter::version));
    long wire = cluster.cluster().awaitQuiet(Duration.ofMillis(300));
    DsmCounters before = cluster.dsm(1).counters();
    for (int i = 1; i <= 20; i++) {
      try (DMut<Counter> g = onB.lock()) {
        assertEquals(2L * i - 1, g.get().bump());
      }
      assertEquals(2L * i, (long) onB.update(Counter::bump));
    }
    assertEquals(wire, cluster.cluster().awaitQuiet(Duration.ofMillis(300)), "no message sent");
    DsmCounters spent = cluster.dsm(1).counters().minus(before);
    assertTrue(spent.oneSidedAtomics() >= 80, "a lock and an unlock each: " + spent);
    assertEquals(40, spent.oneSidedWrites(), "one write per committed change: " + spent);
    assertEquals(40L, (long) mutex.read(Counter::version), "the home reads the last commit");
    assertTrue(mutex.read(Counter::consistent));
    onB.drop();
    mutex.drop();
  }

  @Test
  void shouldLockChangeAndUnlockFromAnotherNodeInTwoTcpRequests() {
    try (LocalCluster tcp =
        Fixtures.registered(LocalCluster.withNodes(2))
            .config("pekko.dsm.transport = tcp")
            .start()) {
      DMutex<Counter> mutex = tcp.dsm(0).mutex(new Counter(128)); // 1 KiB of cells
      DMutex<Counter> onB = tcp.send(0, 1, mutex.clone());
      assertEquals("tcp", tcp.dsm(1).transports().get(tcp.nodeId(0)));
      assertEquals(0, (long) onB.read(Counter::version)); // the handle has seen the word
      long wire = tcp.awaitQuiet(Duration.ofMillis(300));
      for (int i = 1; i <= 10; i++) {
        DsmCounters before = tcp.dsm(1).counters();
        try (DMut<Counter> g = onB.lock()) {
          assertEquals(2L * i - 1, g.get().bump());
        }
        DsmCounters spent = tcp.dsm(1).counters().minus(before);
        assertEquals(2, spent.tcpRequests(), "lock with the value, commit with unlock: " + spent);
        assertEquals(0, spent.messagesSent(), "no message: " + spent);
        before = tcp.dsm(1).counters();
        assertEquals(2L * i, (long) onB.update(Counter::bump));
        spent = tcp.dsm(1).counters().minus(before);
        assertEquals(2, spent.tcpRequests(), "update(fn) run here: " + spent);
      }
      // The home commits meanwhile: the handle's guess is wrong, the lock still gets the new value.
      assertEquals(21L, (long) mutex.update(Counter::bump));
      try (DMut<Counter> g = onB.lock()) {
        assertEquals(22L, g.get().bump());
      }
      DsmCounters before = tcp.dsm(1).counters();
      try (DMut<Counter> g = onB.lock()) {
        assertEquals(23L, g.get().bump());
      }
      assertEquals(2, tcp.dsm(1).counters().minus(before).tcpRequests(), "and two again");
      assertEquals(wire, tcp.awaitQuiet(Duration.ofMillis(300)), "no message sent");
      assertEquals(23L, (long) mutex.read(Counter::version), "the home reads the last commit");
      assertTrue(mutex.read(Counter::consistent));
      onB.drop();
      mutex.drop();
    }
  }

  @Test
  void shouldRefuseTheCommitOfAHolderTheClusterRemovedWhileItHeldTheLock() throws Exception {
    // Node 3 is downed while it holds the lock but keeps running: its late unlock must not
    // commit, although its shm transport still reaches the home's sync region.
    try (LocalCluster own =
        Fixtures.registered(LocalCluster.withNodes(3))
            .config("pekko.dsm.borrow-timeout = 30s")
            .nodeConfig(2, "pekko.cluster.run-coordinated-shutdown-when-down = off")
            .start()) {
      DMutex<Counter> mutex = own.dsm(0).mutex(new Counter(2));
      DMutex<Counter> onC = own.send(0, 2, mutex.clone());
      try (DMut<Counter> g = onC.lock()) {
        g.get().bump(); // committed: version 1
      }
      DMut<Counter> zombie = onC.lock();
      zombie.get().bump();
      CompletableFuture<DMut<Counter>> next = mutex.lockAsync().toCompletableFuture();
      Thread.sleep(300);
      assertTrue(!next.isDone(), "node 3 holds the lock");
      Cluster.get(own.system(0))
          .manager()
          .tell(new Down(Cluster.get(own.system(2)).selfMember().address()));
      try (DMut<Counter> g = next.get(25, TimeUnit.SECONDS)) {
        assertEquals(1, g.get().version(), "the last committed value stands");
        g.get().bump();
        g.get().bump(); // version 3, committed below
      }
      // Refused by the fence, or earlier, once node 3 learns it was removed and sees its peers
      // gone: either way a clear exception and no commit.
      DsmException refused = assertThrows(DsmException.class, zombie::close);
      assertTrue(
          refused.getMessage().contains("not committed") || refused.getMessage().contains("lost"),
          refused.getMessage());
      assertEquals(3L, (long) mutex.read(Counter::version), "the zombie's commit was refused");
      try (DMut<Counter> g = mutex.lock()) {
        assertEquals(3, g.get().version(), "and the lock is free");
      }
    }
  }

  @Test
  void shouldBeFreedWithItsLastHandle() {
    DMutex<Counter> mutex = cluster.dsm(1).mutex(new Counter(1));
    long object = mutex.address().object();
    DMutex<Counter> away = cluster.cluster().send(1, 2, mutex.clone());
    mutex.drop();
    assertThrows(StaleReferenceException.class, mutex::lock);
    assertEquals(0, (long) away.read(Counter::version));
    away.drop();
    eventually("freed at its home", 10, () -> cluster.dsm(1).internalNode().object(object) == null);
  }
}
