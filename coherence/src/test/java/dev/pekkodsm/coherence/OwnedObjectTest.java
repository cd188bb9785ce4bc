package dev.pekkodsm.coherence;

import static dev.pekkodsm.coherence.BorrowState.Kind.EXCLUSIVE;
import static dev.pekkodsm.coherence.BorrowState.Kind.LEND;
import static dev.pekkodsm.coherence.BorrowState.Kind.SHARED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.coherence.BorrowState.Attempt;
import dev.pekkodsm.coherence.BorrowState.Phase;
import dev.pekkodsm.coherence.OwnedObject.Adoption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class OwnedObjectTest {

  static final NodeId HOME = NodeId.of(0x10);
  static final NodeId B = NodeId.of(0x20);
  static final NodeId C = NodeId.of(0x30);
  static final long W = LendLedger.INITIAL_WEIGHT;
  static final long SECOND = 1_000_000_000L;

  final ManualTiming timing = new ManualTiming();
  final List<Long> freed = new ArrayList<>();
  final OwnedObject obj = new OwnedObject(HOME, 7, 0, "v0", timing, freed::add);

  static Throwable failure(CompletableFuture<?> f) {
    try {
      f.join();
      throw new AssertionError("future succeeded");
    } catch (CompletionException e) {
      return e.getCause();
    }
  }

  @Test
  void shouldGrantACompatibleRequestAtOnce() {
    assertTrue(obj.acquire(SHARED, null, 0, null, SECOND).isDone());
    assertEquals(0, timing.pending(), "no timer for an immediate grant");
  }

  @Test
  void shouldMakeAWriterWaitForALendToComeBack() {
    assertEquals(Attempt.GRANTED, obj.tryAcquire(LEND, B, W, null));
    CompletableFuture<Void> write = obj.acquire(EXCLUSIVE, null, 0, "writer", SECOND);
    assertFalse(write.isDone());
    timing.advance(SECOND / 2);
    obj.returnLend(B, W, 0);
    assertTrue(write.isDone());
    assertFalse(write.isCompletedExceptionally());
  }

  @Test
  void shouldFailAWaitingWriterAtItsDeadlineNamingTheHolders() {
    obj.tryAcquire(LEND, B, W, null);
    obj.tryAcquire(LEND, C, W, null);
    CompletableFuture<Void> write = obj.acquire(EXCLUSIVE, null, 0, "writer", SECOND);
    timing.advance(SECOND - 1);
    assertFalse(write.isDone());
    timing.advance(1);
    var e = assertInstanceOf(BorrowTimeoutException.class, failure(write));
    assertEquals(Map.of(B, 1, C, 1), e.holders().lentRefs());
    assertEquals(SECOND, e.waitedNs());
    assertEquals(EXCLUSIVE, e.kind());
  }

  @Test
  void shouldIgnoreAReturnForAnOlderColor() {
    obj.tryAcquire(EXCLUSIVE, null, 0, "w");
    obj.endWrite(() -> 1000);
    obj.tryAcquire(LEND, B, W, null);
    obj.returnLend(B, W, 0); // a late release of a reference to color 0
    assertEquals(W, obj.lentWeight());
    obj.returnLend(B, W, 1);
    assertEquals(0, obj.lentWeight());
  }

  @Test
  void shouldFreeTheOldSnapshotWhenAWriteAdvancesTheColor() {
    assertEquals(0x1000L, obj.published(0, 0x1000L, 64));
    assertEquals(0x1000L, obj.published(0, 0x2000L, 64), "one snapshot per color");
    assertEquals(List.of(0x2000L), freed);
    obj.tryAcquire(EXCLUSIVE, null, 0, "w");
    obj.endWrite(() -> 1000);
    assertEquals(List.of(0x2000L, 0x1000L), freed);
    assertEquals(0, obj.locator());
    assertEquals(0, obj.published(0, 0x3000L, 64), "a snapshot of an old color is refused");
    assertEquals(0x3000L, freed.get(2));
    assertEquals(new GlobalAddress(HOME, 7, 1), obj.address());
  }

  @Test
  void shouldKeepTheSnapshotWhenTheExclusiveBorrowWasOnlyACheck() {
    obj.published(0, 0x1000L, 64);
    obj.tryAcquire(EXCLUSIVE, null, 0, "transfer check");
    obj.endExclusive();
    assertEquals(0x1000L, obj.locator());
    assertTrue(freed.isEmpty());
  }

  @Test
  void shouldFailWaitersAndFreeTheSnapshotWhenRetired() {
    obj.published(0, 0x1000L, 64);
    obj.tryAcquire(EXCLUSIVE, null, 0, "handover");
    CompletableFuture<Void> reader = obj.acquire(SHARED, null, 0, null, SECOND);
    obj.retire(Phase.MOVED);
    var e = assertInstanceOf(ObjectRetiredException.class, failure(reader));
    assertEquals(Phase.MOVED, e.phase());
    assertEquals(List.of(0x1000L), freed);
    assertInstanceOf(
        ObjectRetiredException.class, failure(obj.acquire(SHARED, null, 0, null, SECOND)));
    assertEquals(0, timing.pending(), "the reader's timer was cancelled");
  }

  @Test
  void shouldReleaseAWaitingWriterWhenTheHoldingNodeDeparts() {
    obj.tryAcquire(LEND, B, W, null);
    obj.adopt(B, C, W / 2, 0, n -> false);
    CompletableFuture<Void> write = obj.acquire(EXCLUSIVE, null, 0, "w", SECOND);
    assertEquals(1, obj.reclaim(B));
    assertFalse(write.isDone(), "C still holds its half");
    obj.reclaim(C);
    assertTrue(write.isDone());
  }

  @Test
  void shouldReportAnAdoptionOfAnOlderColorAsStale() {
    obj.tryAcquire(LEND, B, W, null);
    assertEquals(Adoption.ACCEPTED, obj.adopt(B, C, W / 2, 0, n -> false));
    obj.reclaim(B);
    obj.reclaim(C);
    obj.tryAcquire(EXCLUSIVE, null, 0, "w");
    obj.endWrite(() -> 1000);
    assertEquals(Adoption.STALE, obj.adopt(B, C, W / 4, 0, n -> true));
    assertEquals(0, obj.lentWeight());
  }

  @Test
  void shouldGrantQueuedReadersTogetherWhenTheWriterEnds() {
    obj.tryAcquire(EXCLUSIVE, null, 0, "w");
    var r1 = obj.acquire(SHARED, null, 0, null, SECOND);
    var r2 = obj.acquire(SHARED, null, 0, null, SECOND);
    var l = obj.acquire(LEND, B, W, null, SECOND);
    obj.endWrite(() -> 1000);
    assertTrue(r1.isDone() && r2.isDone() && l.isDone());
    assertEquals(2, obj.holders().readers());
    assertEquals(Map.of(B, 1), obj.holders().lentRefs());
  }

  @Test
  void shouldRekeyWhenTheColorRunsOutBeforeGrantingAnything() {
    OwnedObject old = new OwnedObject(HOME, 1, Integer.MAX_VALUE, "v", timing, freed::add);
    old.tryAcquire(EXCLUSIVE, null, 0, "w");
    var reader = old.acquire(SHARED, null, 0, null, SECOND);
    GlobalAddress[] seenByReader = new GlobalAddress[1];
    reader.thenRun(() -> seenByReader[0] = old.address());
    assertEquals(1, old.endWrite(() -> 99));
    assertTrue(reader.isDone());
    assertEquals(
        new GlobalAddress(HOME, 99, 0),
        seenByReader[0],
        "the first borrow after the write already sees the new address");
    old.endShared();
    old.tryAcquire(EXCLUSIVE, null, 0, "w");
    assertEquals(-1, old.endWrite(() -> 100));
    assertEquals(new GlobalAddress(HOME, 99, 1), old.address());
  }

  @Test
  void shouldDropASharedObjectWhenItsLastOwnerIsGoneAndNotBefore() {
    List<String> events = new ArrayList<>();
    OwnedObject arc = new OwnedObject(HOME, 3, 0, "v", timing, freed::add);
    arc.shareOwnership(HOME, W, () -> events.add("unowned"));
    arc.adopt(HOME, B, W / 2, 0, n -> false); // an owner handle cloned and sent to B
    arc.returnLend(HOME, W / 2, 0);
    assertEquals(List.of(), events);
    arc.reclaim(B); // B leaves: its count is given back
    assertEquals(List.of("unowned"), events);
    arc.retire(Phase.DROPPED); // allowed without the exclusive borrow: nobody owns it
    assertEquals(Phase.DROPPED, arc.phase());
  }

  @Test
  void shouldWaitForBorrowsInProgressBeforeDroppingAnUnownedObject() {
    List<String> events = new ArrayList<>();
    OwnedObject arc = new OwnedObject(HOME, 5, 0, "v", timing, freed::add);
    arc.shareOwnership(HOME, W, () -> events.add("unowned"));
    arc.tryAcquire(SHARED, null, 0, null); // a task reading the value
    arc.returnLend(HOME, W, 0); // the last handle is dropped meanwhile
    assertEquals(List.of(), events, "not while it is being read");
    arc.endShared();
    assertEquals(List.of("unowned"), events);

    OwnedObject mutex = new OwnedObject(HOME, 6, 0, "v", timing, freed::add);
    mutex.shareOwnership(HOME, W, () -> events.add("unlocked"));
    mutex.tryAcquire(EXCLUSIVE, null, 0, "lock");
    mutex.returnLend(HOME, W, 0);
    assertEquals(List.of("unowned"), events, "not while it is locked");
    mutex.endExclusive();
    assertEquals(List.of("unowned", "unlocked"), events);
  }

  @Test
  void shouldLetALockPassOwnersOfASharedObject() {
    OwnedObject mutex = new OwnedObject(HOME, 4, 0, "v", timing, freed::add);
    mutex.shareOwnership(HOME, W, () -> {});
    mutex.adopt(HOME, B, W / 2, 0, n -> false);
    assertEquals(
        Attempt.GRANTED,
        mutex.tryAcquire(EXCLUSIVE, null, 0, "lock"),
        "owners do not block a lock");
    assertEquals(Attempt.MUST_WAIT, mutex.tryAcquire(EXCLUSIVE, null, 0, "lock 2"));
  }

  @Test
  void shouldConfirmOnlyAHolderOfTheCurrentColor() {
    obj.tryAcquire(LEND, B, W, null);
    assertTrue(obj.confirms(B, 0));
    assertFalse(obj.confirms(C, 0));
    assertFalse(obj.confirms(B, 1));
  }
}
