package dev.pekkodsm;

import static dev.pekkodsm.Fixtures.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.Fixtures.Account;
import dev.pekkodsm.Fixtures.Counter;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.internal.HandleCodec;
import dev.pekkodsm.testkit.LocalCluster;
import dev.pekkodsm.testkit.LocalClusterExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What tasks do with the handles they carry, and the edges of mutexes and vectors: late answers,
 * failed commits, last handles dropped mid-use, values too large to send back, nested work on a
 * busy node. Short timeouts, so that the late cases happen quickly.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LifecycleTest {

  @RegisterExtension
  static final LocalClusterExtension cluster =
      LocalClusterExtension.withNodes(
          3,
          b ->
              Fixtures.registered(b)
                  .config("pekko.dsm.borrow-timeout = 2s\npekko.dsm.tasks.timeout = 2s"));

  static <T> T result(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  static boolean freed(GlobalAddress a) {
    return cluster.dsm(cluster.cluster().indexOf(a.node())).internalNode().object(a.object())
        == null;
  }

  @Test
  void shouldReleaseAReferenceATaskCapturedWhenItEnds() throws Exception {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("ada", 5));
    DRef<Account> ref = box.share();
    long read = result(cluster.dsm(0).spawnOn(cluster.nodeId(1), () -> ref.get().balance()));
    assertEquals(5L, read);
    Fixtures.eventuallyReplace(
        "the owner can write once the task is over", 10, box, a -> new Account("ada", 6));
    box.drop();
  }

  @Test
  void shouldDropASharedValueATaskCapturedWhenItEnds() throws Exception {
    DArc<Account> arc = cluster.dsm(0).arc(new Account("shared", 11));
    DArc<Account> travelling = arc.clone();
    long read = result(cluster.dsm(0).spawnOn(cluster.nodeId(1), () -> travelling.get().balance()));
    assertEquals(11L, read);
    arc.drop();
    eventually("the value is freed with its last handle", 10, () -> freed(arc.address()));
  }

  @Test
  void shouldLetGoOfWhatALocalTaskReturnsAfterItsCallerGaveUp() throws Exception {
    CompletionStage<DBox<Account>> late =
        cluster
            .dsm(0)
            .spawnOn(
                cluster.nodeId(0),
                () -> {
                  Thread.sleep(3_000);
                  return Dsm.current().alloc(new Account("late", 1));
                });
    ExecutionException e =
        assertThrows(
            ExecutionException.class, () -> late.toCompletableFuture().get(30, TimeUnit.SECONDS));
    assertInstanceOf(DsmTimeoutException.class, e.getCause());
    long before = cluster.dsm(0).internalNode().objectCount();
    Thread.sleep(2_000); // the task ends and its box arrives with nobody to take it
    eventually(
        "the late box is dropped", 10, () -> cluster.dsm(0).internalNode().objectCount() <= before);
  }

  @Test
  void shouldFollowAWriteWhoseAnswerCameTooLate() throws Exception {
    DBox<Counter> onA = cluster.dsm(0).alloc(new Counter(2));
    DBox<Counter> box = cluster.cluster().send(0, 1, onA); // owned on B, data on A
    CompletionStage<Long> slow =
        cluster
            .dsm(1)
            .spawnTo(
                box,
                c -> {
                  try {
                    Thread.sleep(3_000);
                  } catch (InterruptedException ie) {
                    throw new IllegalStateException(ie);
                  }
                  return c.bump();
                });
    ExecutionException e =
        assertThrows(
            ExecutionException.class, () -> slow.toCompletableFuture().get(30, TimeUnit.SECONDS));
    assertInstanceOf(DsmTimeoutException.class, e.getCause());
    assertEquals(1L, (long) box.read(Counter::version), "the box found its object's new color");
    assertEquals(1, box.address().color());
    box.write(Counter::bump);
    assertEquals(2L, (long) box.read(Counter::version));
    box.drop();
  }

  @Test
  void shouldDropAVectorOnceItsViewsAreReleased() throws Exception {
    DVec<Integer> vec = cluster.dsm(0).vec(List.of(1, 2, 3, 4), 2, DVec.Placement.ROUND_ROBIN);
    List<GlobalAddress> chunks = List.of(vec.chunkAddress(0), vec.chunkAddress(1));
    DVec<Integer> view = cluster.cluster().send(0, 2, vec.share());
    assertThrows(BorrowConflictException.class, vec::drop, "a view is out");
    assertEquals(List.of(1, 2, 3, 4), vec.toList(), "and the vector is intact");
    view.drop();
    eventually(
        "the drop goes through once the view is back",
        10,
        () -> {
          try {
            vec.drop();
            return true;
          } catch (BorrowConflictException stillShared) {
            return false;
          }
        });
    for (GlobalAddress chunk : chunks) {
      eventually(chunk + " freed", 10, () -> freed(chunk));
    }
    assertThrows(UseAfterMoveException.class, () -> vec.get(0));
  }

  @Test
  void shouldRefuseAVectorShapeThatOverflows() {
    HandleCodec codec = cluster.dsm(0).internalNode().handles();
    assertThrows(
        IllegalArgumentException.class,
        () ->
            codec.importVec(
                new HandleCodec.VecWire(
                    DVec.Kind.VALUES.ordinal(),
                    Integer.MAX_VALUE,
                    Integer.MAX_VALUE,
                    new Object[0])));
  }

  @Test
  void shouldCloseAGuardCleanlyAfterTheLastHandleIsDropped() {
    long slots = cluster.dsm(0).internalNode().arena().liveSlots();
    DMutex<ArrayList<Long>> m = cluster.dsm(0).mutex(new ArrayList<>(List.of(1L)));
    GlobalAddress a = m.address();
    DMut<ArrayList<Long>> g = m.lock();
    m.drop();
    g.get().add(2L);
    g.close();
    eventually("freed after the guard closed", 10, () -> freed(a));
    assertEquals(slots, cluster.dsm(0).internalNode().arena().liveSlots(), "no slot leaked");
  }

  @Test
  void shouldKeepTheCommittedValueWhenALocalGuardCannotCommit() {
    DMutex<ArrayList<Object>> m = cluster.dsm(0).mutex(new ArrayList<>());
    DsmException e =
        assertThrows(
            DsmException.class,
            () -> {
              try (DMut<ArrayList<Object>> g = m.lock()) {
                g.get().add(new Object()); // not registered: the commit cannot publish it
              }
            });
    assertTrue(e.getMessage().contains("not committed"), e.getMessage());
    try (DMut<ArrayList<Object>> g = m.lock()) {
      assertEquals(0, g.get().size(), "the lock sees what read() says was committed");
    }
    assertEquals(0, (int) m.read(List::size));
    m.drop();
  }

  @Test
  void shouldReadAMutexOnItsHomeWhileCommitsMoveItsSnapshot() throws Exception {
    AtomicReference<Throwable> failed = new AtomicReference<>();
    for (int trial = 0; trial < 100 && failed.get() == null; trial++) {
      DMutex<ArrayList<Long>> m = cluster.dsm(0).mutex(new ArrayList<>());
      AtomicBoolean stop = new AtomicBoolean();
      Thread reader =
          new Thread(
              () -> {
                while (!stop.get()) {
                  try {
                    m.read(ArrayList::size);
                  } catch (Throwable t) {
                    failed.compareAndSet(null, t);
                    return;
                  }
                }
              });
      reader.start();
      for (int grow = 1; grow <= 6; grow++) {
        int n = 1 << (2 * grow);
        m.replace(
            l -> {
              ArrayList<Long> bigger = new ArrayList<>();
              for (long i = 0; i < n; i++) {
                bigger.add(i);
              }
              return bigger;
            });
      }
      stop.set(true);
      reader.join();
      m.drop();
    }
    if (failed.get() != null) {
      throw new AssertionError("a read on the home failed: " + failed.get(), failed.get());
    }
  }

  @Test
  void shouldKeepASharedValueAliveWhileATaskRunsOnIt() throws Exception {
    for (int i = 0; i < 20; i++) {
      DArc<Account> arc = cluster.dsm(0).arc(new Account("shared", 11));
      CompletionStage<Long> s = cluster.dsm(0).spawnTo(arc, a -> a.balance());
      arc.drop();
      assertEquals(11L, (long) result(s));
      DMutex<Long> m = cluster.dsm(0).mutex(1L);
      DMutex<Long> other = m.clone();
      CompletionStage<Long> u;
      try (DMut<Long> held = m.lock()) {
        u = other.updateAsync(v -> v + 1); // queued behind the lock, then shipped
        other.drop();
        m.drop();
        held.set(5L);
      }
      assertEquals(6L, (long) result(u));
    }
  }

  @Test
  void shouldRunNestedWorkOnABusyNode() throws Exception {
    try (LocalCluster own =
        Fixtures.registered(LocalCluster.withNodes(2))
            .config("pekko.dsm.tasks.threads = 1\npekko.dsm.tasks.timeout = 10s")
            .start()) {
      DMutex<Long> m = own.dsm(0).mutex(1L);
      DMutex<Long> captured = m.clone();
      CompletionStage<Long> s;
      try (DMut<Long> held = m.lock()) {
        // On node 0's only task thread, an update that must wait for the lock and then run on
        // a task thread of node 0 itself.
        s = own.dsm(1).spawnOn(own.nodeId(0), () -> captured.update(v -> v + 1));
        Thread.sleep(500);
        held.get();
      }
      assertEquals(2L, (long) result(s));
      m.drop();
    }
  }

  @Test
  void shouldReleaseARemoteLockWhoseValueCannotBeSentBack() {
    DMutex<ArrayList<Long>> m = cluster.dsm(0).mutex(new ArrayList<>(List.of(1L)));
    DMutex<ArrayList<Long>> onB = cluster.cluster().send(0, 1, m.clone());
    DsmException e =
        assertThrows(
            DsmException.class,
            () -> {
              try (DMut<ArrayList<Long>> g = onB.lock()) {
                for (long i = 0; i < 100_000; i++) {
                  g.get().add(i * 1_000_000_007L);
                }
              }
            });
    assertTrue(e.getMessage().contains("inline-limit"), e.getMessage());
    try (DMut<ArrayList<Long>> g = m.lock()) {
      assertEquals(List.of(1L), g.get(), "the lock is free and the committed value stands");
    }
    onB.drop();
    m.drop();
  }

  @Test
  void shouldMoveWhatAnUpdateCapturesWhetherOrNotTheLockIsFree() throws Exception {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("ada", 5));
    DMutex<Long> m = cluster.dsm(0).mutex(1L);
    DRef<Account> free = box.share();
    assertEquals(6L, (long) m.replace(v -> v + free.get().balance())); // runs right here
    assertThrows(StaleReferenceException.class, free::get, "it moved with the function");
    DRef<Account> contended = box.share();
    CompletionStage<Long> s;
    try (DMut<Long> held = m.lock()) {
      s = m.replaceAsync(v -> v + contended.get().balance()); // waits, then runs shipped
      held.get();
    }
    assertEquals(11L, (long) result(s));
    assertThrows(StaleReferenceException.class, contended::get, "it moved with the function");
    Fixtures.eventuallyReplace(
        "both references were let go of when the updates ended",
        10,
        box,
        a -> new Account("ada", 7));
    box.drop();
    m.drop();
  }
}
