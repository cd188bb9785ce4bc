package dev.pekkodsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.Fixtures.Account;
import dev.pekkodsm.Fixtures.Counter;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.testkit.LocalCluster;
import dev.pekkodsm.testkit.LocalClusterExtension;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** spawn, spawnTo, DMutex.update and task groups on a real three-node cluster. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TaskTest {

  @RegisterExtension
  static final LocalClusterExtension cluster =
      LocalClusterExtension.withNodes(3, Fixtures::registered);

  /** Not registered with the DSM serializer. */
  static final class Unregistered {
    int value = 7;
  }

  static <T> T result(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  static Throwable failure(CompletionStage<?> stage) throws Exception {
    ExecutionException e =
        assertThrows(
            ExecutionException.class, () -> stage.toCompletableFuture().get(60, TimeUnit.SECONDS));
    return e.getCause();
  }

  @Test
  void shouldRunSpawnToWhereTheBoxsObjectLivesAndFollowItsNewColor() throws Exception {
    DBox<Counter> onA = cluster.dsm(0).alloc(new Counter(3));
    DBox<Counter> box = cluster.cluster().send(0, 1, onA); // owned on B, data still on A
    assertEquals(cluster.nodeId(0), box.address().node());
    assertEquals(0L, (long) box.read(Counter::version)); // a copy at this color is cached on B

    NodeId ranOn =
        result(
            cluster
                .dsm(1)
                .spawnTo(
                    box,
                    c -> {
                      c.bump();
                      return Dsm.current().self();
                    }));
    assertEquals(cluster.nodeId(0), ranOn, "the function ran where the data is");
    assertEquals(cluster.nodeId(0), box.address().node(), "the object did not move");
    assertEquals(1, box.address().color(), "the box follows the new color");
    assertEquals(1L, (long) box.read(Counter::version), "the new value, not the cached copy");
    assertTrue(box.read(Counter::consistent));

    box.write(Counter::bump); // moves it to B
    assertEquals(cluster.nodeId(1), box.address().node());
    NodeId second = result(cluster.dsm(1).spawnTo(box, c -> Dsm.current().self()));
    assertEquals(cluster.nodeId(1), second, "now it runs here");
    assertEquals(2L, (long) box.read(Counter::version));
    box.drop();
  }

  @Test
  void shouldRunSpawnToOfSharedHandlesAtTheirHome() throws Exception {
    DBox<Account> owner = cluster.dsm(2).alloc(new Account("ada", 40));
    DRef<Account> ref = cluster.cluster().send(2, 0, owner.share());
    String seen =
        result(
            cluster
                .dsm(0)
                .spawnTo(ref, a -> a.owner() + "@" + Dsm.current().self().equals(a.owner())));
    assertEquals("ada@false", seen);
    NodeId where = result(cluster.dsm(0).spawnTo(ref, a -> Dsm.current().self()));
    assertEquals(cluster.nodeId(2), where);
    ref.release();

    DArc<Account> arc = cluster.dsm(1).arc(new Account("bob", 7));
    DArc<Account> remote = cluster.cluster().send(1, 2, arc.clone());
    assertEquals(
        cluster.nodeId(1), result(cluster.dsm(2).spawnTo(remote, a -> Dsm.current().self())));
    assertEquals(14L, (long) result(cluster.dsm(2).spawnTo(remote, a -> a.balance() * 2)));
    remote.drop();
    arc.drop();
    owner.drop();
  }

  @Test
  void shouldCountEveryUpdateShippedToAMutexFromEveryNode() throws Exception {
    DMutex<Counter> inPlace = cluster.dsm(1).mutex(new Counter(2));
    DMutex<Long> immutable = cluster.dsm(1).mutex(0L);
    int perNode = 40;
    List<CompletableFuture<?>> all = new ArrayList<>();
    List<AutoCloseable> handles = new ArrayList<>();
    for (int node = 0; node < 3; node++) {
      DMutex<Counter> m = node == 1 ? inPlace : cluster.cluster().send(1, node, inPlace.clone());
      DMutex<Long> l = node == 1 ? immutable : cluster.cluster().send(1, node, immutable.clone());
      handles.add(m);
      handles.add(l);
      for (int i = 0; i < perNode; i++) {
        all.add(m.updateAsync(Counter::bump).toCompletableFuture());
        all.add(l.replaceAsync(v -> v + 1).toCompletableFuture());
      }
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
    assertEquals(3L * perNode, (long) inPlace.read(Counter::version));
    assertTrue(inPlace.read(Counter::consistent));
    assertEquals(3L * perNode, (long) immutable.read(v -> v));
    DMutex<Long> onC = cluster.cluster().send(1, 2, immutable.clone());
    assertEquals(3L * perNode + 1, (long) onC.replace(v -> v + 1), "replace returns the value");
    assertEquals(
        cluster.nodeId(2),
        onC.update(v -> Dsm.current().self()),
        "a free lock is taken one-sided: the update runs where it was called");
    onC.drop();
    for (AutoCloseable h : handles) {
      h.close();
    }
  }

  @Test
  void shouldKeepTheCommittedValueWhenAnUpdateThrows() throws Exception {
    DMutex<Counter> mutex = cluster.dsm(0).mutex(new Counter(2));
    DMutex<Counter> onB = cluster.cluster().send(0, 1, mutex.clone());
    mutex.update(Counter::bump);
    RemoteTaskException e =
        assertThrows(
            RemoteTaskException.class,
            () ->
                onB.update(
                    c -> {
                      c.bump();
                      c.bump();
                      throw new IllegalStateException("half way");
                    }));
    assertEquals(IllegalStateException.class.getName(), e.remoteType());
    assertEquals(1L, (long) onB.read(Counter::version), "all or nothing");
    RemoteTaskException here =
        assertThrows(
            RemoteTaskException.class,
            () ->
                mutex.update(
                    c -> {
                      c.bump();
                      throw new IllegalArgumentException("on the home too");
                    }));
    assertInstanceOf(IllegalArgumentException.class, here.getCause(), "it ran on this thread");
    assertEquals(cluster.nodeId(0), here.node());
    assertEquals(1L, (long) mutex.read(Counter::version), "all or nothing on the home as well");
    assertEquals(cluster.nodeId(0), mutex.update(c -> Dsm.current().self()));
    try (DMut<Counter> g = mutex.lock()) {
      assertEquals(1L, g.get().version(), "the home's value was put back too");
    }
    onB.drop();
    mutex.drop();
  }

  @Test
  void shouldSpreadSpawnedTasksOverTheNodes() throws Exception {
    List<CompletableFuture<NodeId>> tasks = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      tasks.add(
          cluster
              .dsm(0)
              .spawn(
                  () -> {
                    Thread.sleep(100);
                    return Dsm.current().self();
                  })
              .toCompletableFuture());
    }
    Map<NodeId, Integer> perNode = new HashMap<>();
    for (CompletableFuture<NodeId> t : tasks) {
      perNode.merge(t.get(60, TimeUnit.SECONDS), 1, Integer::sum);
    }
    assertEquals(3, perNode.size(), "every node ran some: " + perNode);
    perNode.forEach((node, n) -> assertTrue(n >= 6, node + " ran only " + n + ": " + perNode));
  }

  /**
   * A node that has just answered a task is idle, not busy: the load it reports with a result
   * leaves out the task that ended, so with every node idle three tasks go to three nodes, round
   * after round (a node that had run the last round's task looked loaded and was passed over).
   */
  @Test
  void shouldPlaceTasksOnEveryIdleNodeRightAfterTheyAnsweredOthers() throws Exception {
    Dsm a = cluster.dsm(0);
    result(a.spawnOn(cluster.nodeId(1), () -> Dsm.current().self()));
    for (int round = 0; round < 4; round++) {
      List<CompletableFuture<NodeId>> tasks = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        tasks.add(
            a.spawn(
                    () -> {
                      Thread.sleep(200);
                      return Dsm.current().self();
                    })
                .toCompletableFuture());
      }
      Map<NodeId, Integer> perNode = new HashMap<>();
      for (CompletableFuture<NodeId> t : tasks) {
        perNode.merge(t.get(60, TimeUnit.SECONDS), 1, Integer::sum);
      }
      assertEquals(3, perNode.size(), "round " + round + ": " + perNode);
    }
  }

  @Test
  void shouldFailTheStageWithTheRemoteCause() throws Exception {
    NodeId c = cluster.nodeId(2);
    Throwable t =
        failure(
            cluster
                .dsm(0)
                .spawnOn(
                    c,
                    () -> {
                      throw new ArithmeticException("divided by zero on purpose");
                    }));
    RemoteTaskException e = assertInstanceOf(RemoteTaskException.class, t);
    assertEquals(c, e.node());
    assertEquals(ArithmeticException.class.getName(), e.remoteType());
    assertEquals("divided by zero on purpose", e.remoteMessage());
    assertTrue(e.remoteTrace().contains("TaskTest"), e.remoteTrace());
    assertTrue(e.getMessage().contains("divided by zero on purpose"), e.getMessage());

    DBox<Counter> onA = cluster.dsm(0).alloc(new Counter(1));
    DBox<Counter> box = cluster.cluster().send(0, 2, onA);
    Throwable w =
        failure(
            cluster
                .dsm(2)
                .spawnTo(
                    box,
                    x -> {
                      x.bump();
                      throw new IllegalStateException("after a change");
                    }));
    RemoteTaskException we = assertInstanceOf(RemoteTaskException.class, w);
    assertEquals(cluster.nodeId(0), we.node());
    assertEquals(1L, (long) box.read(Counter::version), "a write that threw still wrote");
    box.drop();
  }

  @Test
  void shouldRefuseAnUnserializableCaptureAtTheCall() {
    Unregistered captured = new Unregistered();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> cluster.dsm(0).spawn(() -> captured.value + 1));
    assertTrue(e.getMessage().contains(Unregistered.class.getName()), e.getMessage());
    DMutex<Long> m = cluster.dsm(0).mutex(1L);
    assertThrows(IllegalArgumentException.class, () -> m.update(v -> v + captured.value));
    assertEquals(1L, (long) m.read(v -> v));
    m.drop();
  }

  @Test
  void shouldMoveHandlesInAndOutOfTasks() throws Exception {
    NodeId c = cluster.nodeId(2);
    DBox<Account> made =
        result(cluster.dsm(0).spawnOn(c, () -> Dsm.current().alloc(new Account("made", 3))));
    assertEquals(c, made.address().node(), "allocated where the task ran, owned here");
    assertEquals(3L, (long) made.read(Account::balance));

    DArc<Account> arc = cluster.dsm(0).arc(new Account("shared", 11));
    DArc<Account> travelling = arc.clone();
    long read = result(cluster.dsm(0).spawnOn(c, () -> travelling.get().balance()));
    assertEquals(11L, read);
    assertThrows(StaleReferenceException.class, travelling::get, "the clone moved with the task");

    DBox<Account> moved = result(cluster.dsm(0).spawnOn(cluster.nodeId(1), () -> made));
    assertThrows(UseAfterMoveException.class, made::address, "the box went with the task");
    assertEquals(3L, (long) moved.read(Account::balance));
    moved.drop();
    arc.drop();
  }

  @Test
  void shouldJoinAGroupAndThrowItsFirstFailure() throws Exception {
    Dsm dsm = cluster.dsm(1);
    List<CompletionStage<Integer>> ok = new ArrayList<>();
    try (TaskGroup group = dsm.taskGroup()) {
      for (int i = 0; i < 4; i++) {
        int n = i;
        ok.add(group.spawn(() -> n * n));
      }
    }
    for (int i = 0; i < 4; i++) {
      assertTrue(ok.get(i).toCompletableFuture().isDone(), "joined before close returned");
      assertEquals(i * i, (int) result(ok.get(i)));
    }
    TaskGroup group = dsm.taskGroup();
    group.spawn(() -> 1);
    group.spawnOn(
        cluster.nodeId(0),
        () -> {
          throw new IllegalArgumentException("first");
        });
    group.spawnOn(
        cluster.nodeId(2),
        () -> {
          throw new IllegalStateException("second");
        });
    RemoteTaskException e = assertThrows(RemoteTaskException.class, group::join);
    assertEquals("first", e.remoteMessage());
    assertEquals(1, e.getSuppressed().length);
    assertEquals("second", ((RemoteTaskException) e.getSuppressed()[0]).remoteMessage());
    assertThrows(IllegalStateException.class, () -> group.spawn(() -> 2));
  }

  @Test
  void shouldRefuseDsmCurrentOutsideATask() {
    assertThrows(IllegalStateException.class, Dsm::current);
  }

  @Test
  void shouldFailATaskAtOnceWhenItsNodeDies() throws Exception {
    try (LocalCluster own =
        Fixtures.registered(LocalCluster.withNodes(3))
            .config("pekko.dsm.tasks.timeout = 2m")
            .start()) {
      CompletionStage<String> stuck =
          own.dsm(0)
              .spawnOn(
                  own.nodeId(2),
                  () -> {
                    Thread.sleep(120_000);
                    return "never";
                  });
      Thread.sleep(500);
      long start = System.nanoTime();
      own.crash(2);
      Throwable t = failure(stuck);
      assertInstanceOf(DsmException.class, t);
      // Failed when the failure detector loses node 3 (or, if gossip is faster, its removal),
      // saying that a task already running may have run.
      assertTrue(
          t.getMessage().contains("unreachable") || t.getMessage().contains("left the cluster"),
          t.getMessage());
      assertTrue(t.getMessage().contains("may have run"), t.getMessage());
      assertTrue(
          System.nanoTime() - start < TimeUnit.SECONDS.toNanos(60), "failed by the departure");
      assertNotEquals(
          own.nodeId(2),
          own.dsm(0)
              .spawn(() -> Dsm.current().self())
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS));
    }
  }
}
