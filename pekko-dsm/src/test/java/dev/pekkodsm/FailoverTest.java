package dev.pekkodsm;

import static dev.pekkodsm.Fixtures.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.Fixtures.Account;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.replication.BackupRing;
import dev.pekkodsm.testkit.LocalCluster;
import dev.pekkodsm.testkit.LocalClusterExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * With replication factor 1, the objects homed on a node that crashes survive on its backup, under
 * the same addresses, and the handles held by the survivors keep working without doing anything: a
 * fresh three-node cluster per test, node 0 crashed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FailoverTest {

  @RegisterExtension
  final LocalClusterExtension cluster =
      LocalClusterExtension.withNodes(
          3,
          b ->
              Fixtures.registered(b)
                  .config(
                      "pekko.dsm.replication.factor = 1\n"
                          + "pekko.dsm.borrow-timeout = 30s\n"
                          + "pekko.dsm.ask-timeout = 10s"));

  @Test
  void shouldServeAnArcOfACrashedNodeFromItsBackup() {
    DArc<Account> arc = cluster.dsm(0).arc(new Account("a", 7));
    DArc<Account> onB = cluster.cluster().send(0, 1, arc.clone());
    DArc<Account> onC = cluster.cluster().send(0, 2, arc.clone());
    DArc<Account> unread = cluster.cluster().send(0, 2, arc.clone());
    assertEquals(7, onB.get().balance()); // cached on node 1; node 2 has read nothing

    cluster.cluster().crash(0);
    cluster.cluster().awaitRemoved(0);

    assertEquals(7, onB.get().balance());
    assertEquals(7, unread.get().balance(), "a first read after the crash, one-sided");
    assertEquals(7, onC.get().balance());
    DArc<Account> sentAfter = onB.clone();
    assertEquals(7, cluster.cluster().send(1, 2, sentAfter).get().balance());
    unread.close();
    onC.close();
    onB.close();
  }

  @Test
  void shouldKeepABoxWhoseOwnerSurvivedReadableAndWritable() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("a", 1));
    box.replace(a -> new Account("a", 2));
    long object = box.address().object();
    DBox<Account> onB = cluster.cluster().send(0, 1, box);
    eventually(
        "node 1's adoption of the box reaches the home",
        10,
        () -> cluster.nodeId(1).equals(cluster.dsm(0).internalNode().object(object).boxHolder()));
    // A box's new owner reaches the backup without its home waiting (README, Limits): a crash
    // before it does loses the box with its dead home, which is not what this test is about.
    eventually(
        "the backup holds every change of node 0, the box's new owner among them",
        10,
        () -> cluster.dsm(0).internalNode().backedUp(cluster.nodeId(0)));

    cluster.cluster().crash(0);
    cluster.cluster().awaitRemoved(0);

    assertEquals(2, onB.read(Account::balance), "read one-sided from the backup's mirror");
    onB.replace(a -> new Account("a", a.balance() + 1)); // moves it to node 1
    assertEquals(cluster.nodeId(1), onB.address().node());
    assertEquals(3, onB.read(Account::balance));
    DRef<Account> onC = cluster.cluster().send(1, 2, onB.share());
    assertEquals(3, onC.get().balance());
  }

  @Test
  void shouldKeepEveryCommittedValueOfMutexesAndAtomicsOfACrashedNode() {
    DMutex<Account> mutex = cluster.dsm(0).mutex(new Account("m", 1));
    DAtomicLong counter = cluster.dsm(0).atomicLong(5);
    DMutex<Account> mutexOnB = cluster.cluster().send(0, 1, mutex.clone());
    DMutex<Account> mutexOnC = cluster.cluster().send(0, 2, mutex.clone());
    DAtomicLong counterOnB = cluster.cluster().send(0, 1, counter.clone());
    DAtomicLong counterOnC = cluster.cluster().send(0, 2, counter.clone());
    mutex.replace(a -> new Account("m", a.balance() + 1)); // at the home
    try (DMut<Account> held = mutexOnB.lock()) { // the last commit, from a peer
      held.set(new Account("m", held.get().balance() + 1));
    }
    for (int i = 0; i < 3; i++) {
      counterOnC.incrementAndGet(); // from a peer
    }
    assertEquals(18, counter.addAndGet(10)); // at the home
    assertTrue(counterOnB.compareAndSet(18, 20)); // the last change, from a peer
    assertEquals(3, mutexOnC.read(Account::balance));

    cluster.cluster().crash(0);
    cluster.cluster().awaitRemoved(0);

    assertEquals(3, mutexOnB.read(Account::balance), "the last commit survived");
    assertEquals(3, mutexOnC.read(Account::balance));
    assertEquals(20, counterOnB.get(), "the last atomic operation survived");
    assertEquals(20, counterOnC.get());
    try (DMut<Account> held = mutexOnC.lock()) {
      held.set(new Account("m", held.get().balance() * 10));
    }
    assertEquals(31, mutexOnB.replace(a -> new Account("m", a.balance() + 1)).balance());
    assertEquals(31, mutexOnC.read(Account::balance));
    assertEquals(21, counterOnB.incrementAndGet());
    assertEquals(23, counterOnC.addAndGet(2));
    assertEquals(23, counterOnB.get());
  }

  @Test
  void shouldRefuseTheCommitOfALockHeldWhenItsHomeCrashed() {
    DMutex<Account> mutex = cluster.dsm(0).mutex(new Account("m", 1));
    DMutex<Account> onB = cluster.cluster().send(0, 1, mutex.clone());
    DMutex<Account> onC = cluster.cluster().send(0, 2, mutex.clone());
    onB.replace(a -> new Account("m", 2));
    DMut<Account> held = onB.lock();
    held.set(new Account("m", 99));

    cluster.cluster().crash(0);
    cluster.cluster().awaitRemoved(0);

    DsmException refused = assertThrows(DsmException.class, held::close);
    assertTrue(refused.getMessage().contains("no longer holds the lock"), refused.getMessage());
    assertEquals(2, onC.read(Account::balance), "the promoted mutex is free at its last commit");
    assertEquals(3, onC.replace(a -> new Account("m", a.balance() + 1)).balance());
    assertEquals(3, onB.read(Account::balance));
  }

  @Test
  void shouldKeepTheChunksOfAVectorOnACrashedNode() throws Exception {
    List<Integer> values = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      values.add(i);
    }
    DVec<Integer> vec = cluster.dsm(1).vec(values, 10, DVec.Placement.ROUND_ROBIN);
    vec.updateChunks(
            chunk -> {
              chunk.replaceAll(v -> v * 2);
              return null;
            })
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    int onZero = 0;
    for (int c = 0; c < vec.chunkCount(); c++) {
      onZero += cluster.nodeId(0).equals(vec.chunkAddress(c).node()) ? 1 : 0;
    }
    assertTrue(onZero > 0, "some chunks live on node 0");

    cluster.cluster().crash(0);
    cluster.cluster().awaitRemoved(0);

    for (int i = 0; i < 60; i++) {
      assertEquals(2 * i, vec.get(i), "element " + i);
    }
    vec.updateChunks(
            chunk -> {
              chunk.replaceAll(v -> v + 1);
              return null;
            })
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    assertEquals(List.of(1, 3, 5), vec.toList().subList(0, 3));
    assertEquals(2 * 59 + 1, vec.get(59));
    vec.drop();
  }

  @Test
  void shouldSurviveASecondFailureOnceThePromotedObjectsAreBackedUpAgain() throws Exception {
    try (LocalCluster four =
        Fixtures.registered(LocalCluster.withNodes(4))
            .config("pekko.dsm.replication.factor = 1\npekko.dsm.ask-timeout = 10s")
            .start()) {
      DArc<Account> arc = four.dsm(0).arc(new Account("a", 11));
      List<NodeId> members = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        members.add(four.nodeId(i));
      }
      int backup = four.indexOf(BackupRing.of(members).backupOf(four.nodeId(0)).orElseThrow());
      int reader = -1;
      for (int i = 1; i < 4 && reader < 0; i++) {
        if (i != backup) {
          reader = i;
        }
      }
      DArc<Account> held = four.send(0, reader, arc.clone());

      four.crash(0);
      four.awaitRemoved(0);
      assertEquals(11, held.get().balance());
      // the backup promoted node 0's objects and copies them to its own backup
      NodeId first = four.nodeId(0);
      int promoter = backup;
      eventually(
          "the promoted objects are backed up again",
          30,
          () -> four.dsm(promoter).internalNode().backedUp(first));
      four.crash(backup);
      four.awaitRemoved(backup);

      int other = 6 - backup - reader; // the fourth node: it has never read the arc
      DArc<Account> fresh = four.send(reader, other, held.clone());
      assertEquals(11, fresh.get().balance(), "read afresh after two failures");
      assertEquals(11, held.get().balance());
    }
  }

  @Test
  void shouldReclaimAPromotedObjectsLendWhenItsHolderLeavesLater() throws Exception {
    try (LocalCluster four =
        Fixtures.registered(LocalCluster.withNodes(4))
            .config(
                "pekko.dsm.replication.factor = 1\npekko.dsm.ask-timeout = 10s\n"
                    + "pekko.dsm.borrow-timeout = 60s")
            .start()) {
      List<NodeId> members = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        members.add(four.nodeId(i));
      }
      int backup = four.indexOf(BackupRing.of(members).backupOf(four.nodeId(0)).orElseThrow());
      List<Integer> others = new ArrayList<>();
      for (int i = 1; i < 4; i++) {
        if (i != backup) {
          others.add(i);
        }
      }
      int writer = others.get(0);
      int reader = others.get(1);
      DBox<Account> box = four.dsm(0).alloc(new Account("a", 1));
      long object = box.address().object();
      DBox<Account> owned = four.send(0, writer, box);
      eventually(
          "the adoption of the box reaches its home",
          10,
          () -> four.nodeId(writer).equals(four.dsm(0).internalNode().object(object).boxHolder()));
      DRef<Account> lent = four.send(writer, reader, owned.share());
      assertEquals(1, lent.get().balance());

      four.crash(0);
      four.awaitRemoved(0);
      assertEquals(1, owned.read(Account::balance));
      four.crash(reader); // it never gives its reference back
      four.awaitRemoved(reader);

      long start = System.nanoTime();
      owned.replace(a -> new Account("a", 2)); // waits for no reference of the departed reader
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(tookMs < 20_000, "took " + tookMs + " ms");
      assertEquals(2, owned.read(Account::balance));
    }
  }
}
