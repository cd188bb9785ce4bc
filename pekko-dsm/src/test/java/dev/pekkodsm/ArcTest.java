package dev.pekkodsm;

import static dev.pekkodsm.Fixtures.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.Fixtures.Account;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.testkit.LocalCluster;
import dev.pekkodsm.testkit.LocalClusterExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** DArc: immutable values with shared ownership, on a real three-node cluster. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ArcTest {

  @RegisterExtension
  static final LocalClusterExtension cluster =
      LocalClusterExtension.withNodes(3, b -> Fixtures.registered(b));

  static boolean homed(GlobalAddress a, int node) {
    return cluster.dsm(node).internalNode().object(a.object()) != null
        && a.node().equals(cluster.nodeId(node));
  }

  @Test
  void shouldBeReadOnEveryNodeWithOneReadEachAndNoMessage() {
    DArc<Account> arc = cluster.dsm(0).arc(new Account("ada", 7));
    List<DArc<Account>> elsewhere = new ArrayList<>();
    for (int node = 1; node <= 2; node++) {
      elsewhere.add(cluster.cluster().send(0, node, arc.clone()));
    }
    long wire = cluster.cluster().awaitQuiet(java.time.Duration.ofMillis(300));
    List<DArc<Account>> twins = new ArrayList<>();
    for (int node = 1; node <= 2; node++) {
      DsmCounters before = cluster.dsm(node).counters();
      DArc<Account> there = elsewhere.get(node - 1);
      assertEquals(new Account("ada", 7), there.get());
      assertEquals(7, there.read(Account::balance));
      DArc<Account> twin = there.clone();
      assertEquals(new Account("ada", 7), twin.get());
      DsmCounters d = cluster.dsm(node).counters().minus(before);
      assertEquals(1, d.oneSidedReads(), "node " + node);
      twins.add(twin);
    }
    assertEquals(
        wire,
        cluster.cluster().awaitQuiet(java.time.Duration.ofMillis(300)),
        "reads and clones send nothing");
    twins.forEach(DArc::drop); // each gives its share back: a message to the home
    assertEquals(new Account("ada", 7), arc.get());
    elsewhere.forEach(DArc::drop);
    arc.drop();
  }

  @Test
  void shouldBeFreedWhenTheLastHandleAnywhereIsDropped() {
    DArc<Account> arc = cluster.dsm(0).arc(new Account("bob", 1));
    GlobalAddress a = arc.address();
    DArc<Account> onB = cluster.cluster().send(0, 1, arc.clone());
    DArc<Account> onC = cluster.cluster().send(1, 2, onB.clone());
    onC.get();
    arc.drop();
    onB.drop();
    assertTrue(homed(a, 0), "node 2 still holds a share");
    assertThrows(StaleReferenceException.class, arc::get);
    onC.drop();
    eventually("the value is freed at its home", 10, () -> !homed(a, 0));
    onC.drop(); // idempotent
  }

  @Test
  void shouldGiveBackTheSharesOfANodeThatLeaves() {
    try (LocalCluster own = LocalCluster.withNodes(3).register(Account.class, 100).start()) {
      DArc<Account> arc = own.dsm(0).arc(new Account("cy", 2));
      GlobalAddress a = arc.address();
      DArc<Account> onC = own.send(0, 2, arc.clone());
      DArc<Account> moreOnC = onC.clone();
      assertEquals(2, moreOnC.get().balance());
      var home = own.dsm(0).internalNode();
      eventually(
          "node 2's adoption arrives",
          10,
          () -> home.object(a.object()).holders().lentRefs().containsKey(own.nodeId(2)));
      arc.drop();
      own.crash(2);
      eventually(
          "the value is freed once node 2 is gone", 30, () -> home.object(a.object()) == null);
    }
  }

  @Test
  void shouldFreezeALocalBoxWithoutCopyingIt() {
    Account value = new Account("dee", 3);
    DBox<Account> box = cluster.dsm(1).alloc(value);
    GlobalAddress before = box.address();
    DArc<Account> arc = box.freeze();
    assertThrows(UseAfterMoveException.class, () -> box.read(a -> a));
    assertEquals(before, arc.address(), "the same object at the same address");
    assertTrue(arc.get() == value, "not copied");
    DArc<Account> onA = cluster.cluster().send(1, 0, arc.clone());
    assertEquals(value, onA.get());
    onA.drop();
    arc.drop();
    eventually("freed", 10, () -> !homed(before, 1));
  }

  @Test
  void shouldFreezeARemoteBoxAtItsHome() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("eve", 4));
    GlobalAddress at = box.address();
    DBox<Account> onB = cluster.cluster().send(0, 1, box);
    DRef<Account> lent = onB.share();
    var conflict = assertThrows(BorrowConflictException.class, onB::freeze);
    assertTrue(conflict.getMessage().contains("freeze"), conflict.getMessage());
    lent.release();
    Fixtures.eventually(
        "the freeze goes through",
        10,
        () -> {
          try {
            onB.freeze().drop();
            return true;
          } catch (BorrowConflictException stillLent) {
            return false;
          }
        });
    assertFalse(homed(at, 1));
    eventually("freed at its home after the only handle was dropped", 10, () -> !homed(at, 0));
  }

  @Test
  void shouldStayOnItsHomeWhenReadFromTheNodeItWasFrozenOn() {
    DBox<Account> box = cluster.dsm(2).alloc(new Account("fay", 5));
    DBox<Account> onA = cluster.cluster().send(2, 0, box);
    DArc<Account> arc = onA.freeze();
    assertEquals(cluster.nodeId(2), arc.address().node(), "freezing moves nothing");
    assertEquals(5, arc.get().balance());
    arc.drop();
  }
}
