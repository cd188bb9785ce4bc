package dev.pekkodsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.Fixtures.Account;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.testkit.ProcessCluster;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three separate JVM processes on loopback and a driver node in this JVM, forming one cluster: the
 * foundation's scenarios over tcp and over shm, and a process killed mid-run. The driver acts on
 * the processes by placing tasks on them; every read a task does crosses process boundaries.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MultiJvmTest {

  static final String CLASSES =
      "pekko.dsm.serialization.classes { \"dev.pekkodsm.Fixtures$Account\" = 100 }\n"
          + "pekko.dsm.borrow-timeout = 2s\n";

  static <T> T await(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** {oneSidedReads, shmReads, tcpReads} of the node the task runs on, since {@code before}. */
  static long[] reads(DsmCounters before) {
    DsmCounters d = Dsm.current().counters().minus(before);
    return new long[] {d.oneSidedReads(), d.shmReads(), d.tcpReads()};
  }

  static void scenarios(ProcessCluster cluster, String transport) throws Exception {
    Dsm driver = cluster.driver();
    NodeId p0 = cluster.nodeId(0);
    NodeId p1 = cluster.nodeId(1);
    NodeId p2 = cluster.nodeId(2);
    int column = transport.equals("shm") ? 1 : 2;

    // Allocate in process 0; the box comes back to the driver as a handle.
    DBox<Account> box =
        await(driver.spawnOn(p0, () -> Dsm.current().alloc(new Account("ada", 10))));
    assertEquals(p0, box.address().node());

    // Processes 1 and 2 read it one-sided, over the transport under test.
    DRef<Account> ref = box.share();
    for (NodeId reader : List.of(p1, p2)) {
      DRef<Account> mine = ref.copy(); // the task takes this one with it
      long[] seen =
          await(
              driver.spawnOn(
                  reader,
                  () -> {
                    DsmCounters before = Dsm.current().counters();
                    long balance = mine.get().balance();
                    long[] r = reads(before);
                    return new long[] {balance, r[0], r[1], r[2]};
                  }));
      assertEquals(10, seen[0]);
      assertEquals(1, seen[1], "one one-sided read in " + reader);
      assertEquals(1, seen[1 + column], transport + " read in " + reader + Arrays.toString(seen));
    }
    ref.release();

    // A write in process 2 moves the object there, under a new address.
    DBox<Account> moved =
        await(
            driver.spawnOn(
                p2,
                () -> {
                  box.replace(a -> new Account(a.owner(), a.balance() + 1));
                  return box;
                }));
    assertEquals(p2, moved.address().node());
    DRef<Account> after = moved.share();
    long balance = await(driver.spawnOn(p0, () -> after.get().balance()));
    assertEquals(11, balance, "process 0 reads the moved object in process 2");
    after.release();

    // A value too large for a message moves by a one-sided read of the old home's arena.
    DBox<byte[]> big =
        await(
            driver.spawnOn(
                p1,
                () -> {
                  byte[] value = new byte[512 * 1024];
                  Arrays.fill(value, (byte) 3);
                  return Dsm.current().alloc(value);
                }));
    long[] fetched =
        await(
            driver.spawnOn(
                p0,
                () -> {
                  DsmCounters before = Dsm.current().counters();
                  int sum = big.write(b -> b[0] + b[b.length - 1]);
                  long[] r = reads(before);
                  big.drop();
                  return new long[] {sum, r[0], r[1], r[2]};
                }));
    assertEquals(6, fetched[0]);
    assertTrue(
        fetched[1 + column] >= 1, transport + " fetch of a large move " + Arrays.toString(fetched));

    // A mutex incremented from every process ends at exactly 3N; reads are one-sided.
    DMutex<Long> counter = driver.mutex(0L);
    List<CompletableFuture<Long>> workers = new ArrayList<>();
    int n = 40;
    for (NodeId p : List.of(p0, p1, p2)) {
      DMutex<Long> shared = counter.clone(); // each task takes a handle of its own
      workers.add(
          driver
              .spawnOn(
                  p,
                  () -> {
                    for (int i = 0; i < n; i++) {
                      shared.replace(v -> v + 1);
                    }
                    return shared.read(v -> v);
                  })
              .toCompletableFuture());
    }
    for (CompletableFuture<Long> w : workers) {
      w.get(60, TimeUnit.SECONDS);
    }
    long total = counter.read(v -> v);
    assertEquals(3L * n, total);
    counter.drop();
    moved.drop();
  }

  @Test
  void shouldRunTheFoundationScenariosAcrossProcessesOverTcp() throws Exception {
    try (ProcessCluster cluster =
        ProcessCluster.withProcesses(3).config(CLASSES + "pekko.dsm.transport = tcp").start()) {
      scenarios(cluster, "tcp");
    }
  }

  @Test
  void shouldRunTheFoundationScenariosAcrossProcessesOverShm() throws Exception {
    try (ProcessCluster cluster = ProcessCluster.withProcesses(3).config(CLASSES).start()) {
      scenarios(cluster, "shm");
      assertEquals("shm", cluster.driver().transports().get(cluster.nodeId(0)));
    }
  }

  /** A process killed mid-run: its objects are lost, fast and precisely; the others carry on. */
  @Test
  void shouldReportObjectsOfAKilledProcessLost() throws Exception {
    try (ProcessCluster cluster =
        ProcessCluster.withProcesses(3).config(CLASSES + "pekko.dsm.transport = tcp").start()) {
      Dsm driver = cluster.driver();
      DBox<Account> doomed =
          await(driver.spawnOn(cluster.nodeId(1), () -> Dsm.current().alloc(new Account("x", 1))));
      DBox<Account> safe =
          await(driver.spawnOn(cluster.nodeId(2), () -> Dsm.current().alloc(new Account("y", 2))));
      cluster.kill(1);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        try {
          doomed.read(Account::balance);
        } catch (ObjectLostException e) {
          break; // the process was removed from the cluster: its objects are lost
        } catch (DsmException e) {
          // unreachable but not yet removed: the read fails without hanging
        }
        assertTrue(System.nanoTime() < deadline, "the killed process was never removed");
        Thread.sleep(200);
      }
      long started = System.nanoTime();
      assertThrows(ObjectLostException.class, () -> doomed.read(Account::balance));
      assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(1), "lost is fast");
      assertEquals(2, safe.read(Account::balance), "the surviving process still serves");
      safe.drop();
    }
  }

  /**
   * With replication factor 1, a process killed with SIGKILL loses nothing that was acknowledged:
   * its objects (a box, an arc, a mutex, an atomic) are served by its backup over tcp (a read
   * server of the promoted arena and sync region), under the same addresses, to the driver and to
   * the other processes, which go on locking, committing and incrementing.
   */
  @Test
  void shouldKeepTheObjectsOfAKilledProcessWithReplication() throws Exception {
    try (ProcessCluster cluster =
        ProcessCluster.withProcesses(3)
            .config(CLASSES + "pekko.dsm.transport = tcp\npekko.dsm.replication.factor = 1")
            .start()) {
      Dsm driver = cluster.driver();
      NodeId doomedNode = cluster.nodeId(1);
      DBox<Account> box =
          await(
              driver.spawnOn(
                  doomedNode,
                  () -> {
                    DBox<Account> b = Dsm.current().alloc(new Account("x", 1));
                    b.replace(a -> new Account("x", 5)); // acknowledged by the backup
                    return b;
                  }));
      DArc<Account> arc =
          await(driver.spawnOn(doomedNode, () -> Dsm.current().arc(new Account("z", 9))));
      DMutex<Account> mutex =
          await(driver.spawnOn(doomedNode, () -> Dsm.current().mutex(new Account("m", 1))));
      DAtomicLong atomic = await(driver.spawnOn(doomedNode, () -> Dsm.current().atomicLong(40)));
      assertEquals(doomedNode, box.address().node());
      assertEquals(5, box.read(Account::balance));
      try (DMut<Account> held = mutex.lock()) { // committed at its home, held by the backup
        held.set(new Account("m", 2));
      }
      assertEquals(42, atomic.addAndGet(2));

      cluster.kill(1);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      long balance;
      while (true) {
        try {
          balance = box.read(Account::balance);
          break;
        } catch (DsmException e) {
          // unreachable and not yet removed, or the backup not yet serving: no hang either way
        }
        assertTrue(System.nanoTime() < deadline, "the killed process's box never came back");
        Thread.sleep(200);
      }
      assertEquals(5L, balance, "the acknowledged write survived");
      assertEquals(doomedNode, box.address().node(), "under its old address");

      // Process 2 may learn of the removal a moment after the driver: until then its reads of
      // the killed process fail at once (its transport is down), and it tries again.
      DArc<Account> forTwo = arc.clone();
      long seen =
          await(
              driver.spawnOn(
                  cluster.nodeId(2),
                  () -> {
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (true) {
                      try {
                        return forTwo.get().balance();
                      } catch (DsmException e) {
                        if (System.nanoTime() > until) {
                          throw e;
                        }
                        Thread.sleep(200);
                      }
                    }
                  }));
      assertEquals(9, seen, "a first read of the arc in process 2, over tcp from the backup");

      assertEquals(2, mutex.read(Account::balance), "the mutex's last commit survived");
      assertEquals(42, atomic.get(), "the atomic's last change survived");
      DMutex<Account> mutexForTwo = mutex.clone();
      DAtomicLong atomicForTwo = atomic.clone();
      long[] fromTwo =
          await(
              driver.spawnOn(
                  cluster.nodeId(2),
                  () ->
                      new long[] {
                        mutexForTwo.replace(a -> new Account("m", a.balance() + 1)).balance(),
                        atomicForTwo.incrementAndGet()
                      }));
      assertEquals(3, fromTwo[0], "locked and committed from process 2");
      assertEquals(43, fromTwo[1]);
      try (DMut<Account> held = mutex.lock()) {
        held.set(new Account("m", held.get().balance() * 10));
      }
      assertEquals(30, mutex.read(Account::balance));
      assertEquals(44, atomic.incrementAndGet());

      box.replace(a -> new Account("x", a.balance() + 1)); // moves it to the driver
      assertEquals(6, box.read(Account::balance));
      box.drop();
      arc.drop();
      mutex.drop();
      atomic.drop();
    }
  }
}
