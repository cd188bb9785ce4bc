package dev.pekkodsm;

import static dev.pekkodsm.Fixtures.eventually;
import static dev.pekkodsm.Fixtures.eventuallyReplace;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.Fixtures.Account;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.testkit.LocalClusterExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The ownership protocol on a real three-node cluster. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OwnershipTest {

  @RegisterExtension
  static final LocalClusterExtension cluster =
      LocalClusterExtension.withNodes(
          3, b -> Fixtures.registered(b).config("pekko.dsm.borrow-timeout = 1s"));

  /** DSM messages sent so far, once the asynchronous adoptions have settled. */
  static long settledMessages() {
    return cluster.cluster().awaitQuiet(java.time.Duration.ofMillis(300));
  }

  @Test
  void shouldReadFromEveryNodeAndHitTheCacheOnRepeat() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("ada", 10));
    DRef<Account> ref = box.share();
    assertEquals(new Account("ada", 10), ref.get(), "the home reads the live value");

    for (int node = 1; node <= 2; node++) {
      DsmCounters before = cluster.dsm(node).counters();
      DRef<Account> there = cluster.cluster().send(0, node, ref.copy());
      long wireBefore = settledMessages();
      assertEquals(new Account("ada", 10), there.get());
      assertEquals(new Account("ada", 10), there.get());
      assertEquals(wireBefore, settledMessages(), "a read sends no message");
      DsmCounters first = cluster.dsm(node).counters().minus(before);
      assertEquals(1, first.oneSidedReads(), "one one-sided read on node " + node);

      // A second reference to the same version is served from the cache.
      DRef<Account> again = cluster.cluster().send(0, node, ref.copy());
      assertEquals(new Account("ada", 10), again.get());
      DsmCounters second = cluster.dsm(node).counters().minus(before);
      assertEquals(1, second.oneSidedReads(), "no second one-sided read on node " + node);
      assertEquals(1, second.cacheHits());
      there.release();
      again.release();
    }
    ref.release();
    box.drop();
  }

  @Test
  void shouldServeANewReferenceFromTheCacheAfterTheOldOneWasReleased() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("bob", 1));
    DRef<Account> first = cluster.cluster().send(0, 1, box.share());
    first.get();
    first.release();
    DsmCounters before = cluster.dsm(1).counters();
    DRef<Account> second = cluster.cluster().send(0, 1, box.share());
    assertEquals(new Account("bob", 1), second.get());
    DsmCounters delta = cluster.dsm(1).counters().minus(before);
    assertEquals(0, delta.oneSidedReads(), "no write in between: the unpinned copy still serves");
    assertEquals(1, delta.cacheHits());
    second.release();
    box.drop();
  }

  @Test
  void shouldMoveTheObjectToTheWriterUnderANewAddressWithTwoMessages() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("cy", 5));
    GlobalAddress before = box.address();
    DBox<Account> onB = cluster.cluster().send(0, 1, box);
    assertEquals(before, onB.address(), "sending a box moves the handle, not the data");
    assertFalse(onB.isLocal());
    assertEquals(new Account("cy", 5), onB.read(a -> a), "a remote box reads one-sided");

    long objectsA = cluster.dsm(0).counters().liveObjects();
    long wire = settledMessages();
    onB.replace(a -> new Account(a.owner(), a.balance() + 1));
    assertEquals(2, settledMessages() - wire, "a move is one request and one reply");

    GlobalAddress after = onB.address();
    assertEquals(cluster.nodeId(1), after.node());
    assertNotEquals(before.object() + "@" + before.node(), after.object() + "@" + after.node());
    assertTrue(onB.isLocal());
    assertEquals(new Account("cy", 6), onB.read(a -> a));
    assertEquals(objectsA - 1, cluster.dsm(0).counters().liveObjects(), "gone from the old home");

    // Writing again is local: no message, and the color advances.
    wire = settledMessages();
    onB.replace(a -> new Account(a.owner(), a.balance() + 1));
    assertEquals(wire, settledMessages());
    assertEquals(after.color() + 1, onB.address().color());
    assertEquals(after.object(), onB.address().object());
    onB.drop();
  }

  @Test
  void shouldNeverReturnACachedOldVersionAfterAWrite() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("dee", 0));
    DRef<Account> v0 = cluster.cluster().send(0, 2, box.share());
    assertEquals(0, v0.get().balance());
    v0.release();
    assertThrows(StaleReferenceException.class, v0::get);

    box.replace(a -> new Account(a.owner(), 1));
    DRef<Account> v1 = cluster.cluster().send(0, 2, box.share());
    assertEquals(v0.address().color() + 1, v1.address().color());
    assertEquals(1, v1.get().balance(), "the new color is a new cache key");
    v1.release();
    box.drop();
  }

  @Test
  void shouldTransferOwnershipAndLetTheNewOwnerWriteFromItsNode() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("eve", 7));
    DBox<Account> moved = box.transfer();
    var e = assertThrows(UseAfterMoveException.class, () -> box.read(a -> a));
    assertTrue(e.getMessage().contains("transfer()"), e.getMessage());

    DBox<Account> onC = cluster.cluster().send(0, 2, moved);
    assertThrows(UseAfterMoveException.class, () -> moved.read(a -> a));
    onC.write(a -> a.balance());
    assertEquals(cluster.nodeId(2), onC.address().node());
    assertEquals(7, onC.read(Account::balance));
    onC.drop();
  }

  @Test
  void shouldMoveLargeValuesThroughTheArena() {
    byte[] big = new byte[600 * 1024];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31);
    }
    DBox<byte[]> box = cluster.dsm(0).alloc(big.clone());
    DBox<byte[]> onB = cluster.cluster().send(0, 1, box);
    long slotsA = cluster.dsm(0).counters().arenaSlots();
    onB.write(b -> b[0] = 1);
    big[0] = 1;
    assertArrayEquals(big, onB.read(b -> b.clone()));
    eventually(
        "the slot of the large move is freed at the old home",
        10,
        () -> cluster.dsm(0).counters().arenaSlots() < slotsA);
    onB.drop();
  }

  @Test
  void shouldFreeTheSnapshotSlotAndStopTheEntityOnDrop() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("fay", 3));
    GlobalAddress at = box.address();
    var home = cluster.dsm(0).internalNode();
    long objects = home.objectCount();
    DBox<Account> onB = cluster.cluster().send(0, 1, box); // publishes a snapshot at the home
    long locator = home.object(at.object()).locator();
    assertNotEquals(0, locator);
    var buffer = new dev.pekkodsm.memory.ReadBuffer(64);
    assertEquals(
        dev.pekkodsm.memory.ReadStatus.OK,
        home.arena().read(locator, at.object(), at.color(), buffer));
    String entityId = Long.toHexString(at.node().value()) + ":" + Long.toHexString(at.object());
    DRef<Account> ref = onB.share(); // a lend requested from the home starts its owner entity
    ref.release();
    eventually("the owner entity runs", 10, () -> entities(0).contains(entityId));

    onB.drop();
    assertEquals(
        dev.pekkodsm.memory.ReadStatus.FREED,
        home.arena().read(locator, at.object(), at.color(), buffer),
        "the slot is freed");
    assertEquals(objects - 1, home.objectCount());
    eventually("the owner entity stops", 10, () -> !entities(0).contains(entityId));
    assertThrows(UseAfterMoveException.class, () -> onB.read(a -> a));
    onB.close(); // closing a dropped box is a no-op
  }

  private static Set<String> entities(int node) {
    var sharding = ClusterSharding.get(cluster.system(node));
    var key =
        EntityTypeKey.create(dev.pekkodsm.internal.Protocol.OwnerCommand.class, "pekko-dsm-owner");
    ShardRegion.CurrentShardRegionState state =
        AskPattern.<ClusterShardingQuery, ShardRegion.CurrentShardRegionState>ask(
                sharding.shardState(),
                replyTo -> new GetShardRegionState(key, replyTo),
                java.time.Duration.ofSeconds(3),
                cluster.system(node).scheduler())
            .toCompletableFuture()
            .join();
    Set<String> ids = new java.util.HashSet<>();
    state.getShards().forEach(s -> ids.addAll(s.getEntityIds()));
    return ids;
  }

  @Test
  void shouldGiveEachNodeItsOwnCopyWhileTheHomeKeepsTheLiveValue() {
    DBox<ArrayList<String>> box = cluster.dsm(0).alloc(new ArrayList<>(List.of("x")));
    DRef<ArrayList<String>> home = box.share();
    DRef<ArrayList<String>> away = cluster.cluster().send(0, 1, home.copy());
    assertSame(home.get(), box.read(l -> l), "the home's reference is the live value");
    assertEquals(home.get(), away.get());
    home.release();
    away.release();
    box.drop();
  }

  @Test
  void shouldShareFromABoxWhoseObjectLivesElsewhere() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("gus", 2));
    DBox<Account> onB = cluster.cluster().send(0, 1, box);
    DRef<Account> ref = onB.share(); // a lend requested from the home
    DRef<Account> onC = cluster.cluster().send(1, 2, ref);
    assertThrows(StaleReferenceException.class, ref::get, "a sent reference is the receiver's");
    assertEquals(new Account("gus", 2), onC.get());
    var conflict =
        assertThrows(BorrowConflictException.class, () -> onB.replace(a -> new Account("gus", 3)));
    assertEquals(1, conflict.lentCount());
    assertTrue(
        conflict.lentReferences().containsKey(cluster.nodeId(2)),
        "the holder is named: " + conflict.getMessage());
    onC.release();
    eventuallyReplace(
        "the write goes through once the reference is back", 10, onB, a -> new Account("gus", 3));
    assertEquals(3, onB.read(Account::balance));
    onB.drop();
  }
}
