package dev.pekkodsm.coherence.home;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.coherence.BorrowState;
import dev.pekkodsm.coherence.LendLedger;
import dev.pekkodsm.coherence.ManualTiming;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ObjectKind;
import dev.pekkodsm.coherence.ObjectTable;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.home.HomeReply.Reason;
import dev.pekkodsm.coherence.mutex.LockWord;
import dev.pekkodsm.coherence.mutex.MutexHome;
import dev.pekkodsm.coherence.mutex.MutexSteps;
import dev.pekkodsm.coherence.mutex.TestStore;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.SyncLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every request of the home protocol, driven without a cluster, an actor system or a real clock:
 * requests go in through {@link HomeProtocol#handle}, time moves only when the test advances it,
 * and every effect is recorded by {@link FakePorts}.
 */
class HomeProtocolTest {

  static final NodeId HOME = NodeId.of(0x10);
  static final NodeId B = NodeId.of(0x20);
  static final NodeId C = NodeId.of(0x30);
  static final long W = LendLedger.INITIAL_WEIGHT;
  static final long SECOND = 1_000_000_000L;

  final ManualTiming timing = new ManualTiming();
  final FakePorts ports = new FakePorts();
  final List<Long> freedSlots = new ArrayList<>();
  final ObjectTable table =
      new ObjectTable(HOME, timing, freedSlots::add, 1_000, Duration.ofMinutes(10));
  TestStore store;
  MutexHome mutexes;
  HomeProtocol home;

  @BeforeEach
  void buildHome(@TempDir Path dir) {
    store = new TestStore(dir, HOME.value());
    mutexes = new MutexHome(HOME, store, timing, SECOND);
    ports.mutexes = mutexes;
    home =
        new HomeProtocol(
            table,
            ports,
            mutexes,
            new RequestMemory(Duration.ofMinutes(1), 1 << 20, 1_000, timing),
            SECOND,
            FakePorts.INLINE_LIMIT);
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  /** What one request was answered, and whether the home said its object left. */
  static final class Answers implements Responder {
    final List<HomeReply> replies = new ArrayList<>();
    boolean objectLeft;

    @Override
    public void reply(HomeReply reply) {
      replies.add(reply);
    }

    @Override
    public void objectLeft() {
      objectLeft = true;
    }

    /** The one answer; fails if there is none yet or more than one. */
    HomeReply only() {
      assertEquals(1, replies.size(), "answers: " + replies);
      return replies.get(0);
    }

    boolean pending() {
      return replies.isEmpty();
    }
  }

  Answers ask(HomeRequest request) {
    Answers a = new Answers();
    home.handle(request, a);
    return a;
  }

  void tell(HomeRequest request) {
    home.handle(request, Responder.NONE);
  }

  /** A box's object homed here, owned by a box on node B. */
  OwnedObject boxOwnedByB(String value) {
    OwnedObject obj = table.allocate(value);
    obj.boxHolder(B);
    return obj;
  }

  HomeReply.Lent lend(OwnedObject obj, NodeId holder, long requestId) {
    return (HomeReply.Lent)
        ask(new HomeRequest.Lend(
                HOME.value(), obj.objectId(), obj.color(), holder.value(), requestId))
            .only();
  }

  HomeRequest.HandOver handOver(OwnedObject obj, NodeId requester, long newObject) {
    return new HomeRequest.HandOver(
        HOME.value(), obj.objectId(), obj.color(), requester.value(), newObject);
  }

  static Reason refusal(HomeReply reply) {
    return assertInstanceOf(HomeReply.Refused.class, reply).reason();
  }

  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------ hand-over

  @Test
  void shouldHandAFreeObjectOverAtOnceAndRetireIt() {
    OwnedObject obj = boxOwnedByB("v");
    long id = obj.objectId();
    Answers a = ask(handOver(obj, B, 42));
    assertEquals("v", text(assertInstanceOf(HomeReply.HandedOver.class, a.only()).value()));
    assertTrue(a.objectLeft, "the entity may stop");
    assertNull(table.get(id), "the object left the table");
    assertEquals(BorrowState.Phase.MOVED, obj.phase());
    assertEquals(1, ports.movedOut);
    HomeReply late = ask(new HomeRequest.Lend(HOME.value(), id, 0, C.value(), 1)).only();
    assertEquals(Reason.MOVED, refusal(late));
    assertEquals(B.value(), ((HomeReply.Refused) late).movedToNode());
    assertEquals(42, ((HomeReply.Refused) late).movedToObject());
  }

  @Test
  void shouldGiveARepeatedHandOverTheSameAnswerAndNobodyElseTheObject() {
    OwnedObject obj = boxOwnedByB("v");
    HomeRequest.HandOver request = handOver(obj, B, 42);
    HomeReply first = ask(request).only();
    HomeReply again = ask(request).only();
    assertSame(first, again, "the writer that missed the answer gets it again");
    assertEquals(Reason.MOVED, refusal(ask(handOver(obj, C, 42)).only()), "another writer");
    assertEquals(Reason.MOVED, refusal(ask(handOver(obj, B, 43)).only()), "another new id");
  }

  @Test
  void shouldHandOverALargeValueThroughTheArenaAndFreeItsSlotWhenCollected() {
    OwnedObject obj = boxOwnedByB("x".repeat(FakePorts.INLINE_LIMIT));
    HomeReply.HandedOverAt at =
        assertInstanceOf(HomeReply.HandedOverAt.class, ask(handOver(obj, B, 42)).only());
    tell(new HomeRequest.Collected(HOME.value(), obj.objectId(), at.locator()));
    assertEquals(List.of(at.locator()), ports.freedMoveSlots);
  }

  @Test
  void shouldMakeAHandOverWaitForALentReferenceAndGrantItOnRelease() {
    OwnedObject obj = boxOwnedByB("v");
    HomeReply.Lent lent = lend(obj, C, 1);
    Answers move = ask(handOver(obj, B, 42));
    assertTrue(move.pending(), "waits for the reference");
    timing.advance(SECOND / 2);
    tell(new HomeRequest.Release(HOME.value(), obj.objectId(), 0, C.value(), lent.weight()));
    assertInstanceOf(HomeReply.HandedOver.class, move.only());
  }

  @Test
  void shouldRefuseAHandOverAtItsDeadlineNamingTheHolders() {
    OwnedObject obj = boxOwnedByB("v");
    lend(obj, C, 1);
    Answers move = ask(handOver(obj, B, 42));
    timing.advance(SECOND);
    HomeReply.Refused r = assertInstanceOf(HomeReply.Refused.class, move.only());
    assertEquals(Reason.CONFLICT, r.reason());
    assertEquals(Map.of(C.value(), 1), r.lent());
    assertEquals(BorrowState.Phase.ACTIVE, obj.phase(), "the object stays");
  }

  @Test
  void shouldRefuseAHandOverOfAnotherColor() {
    OwnedObject obj = boxOwnedByB("v");
    HomeRequest.HandOver stale =
        new HomeRequest.HandOver(HOME.value(), obj.objectId(), 3, B.value(), 42);
    assertEquals(Reason.STALE, refusal(ask(stale).only()));
  }

  // ------------------------------------------------------------------ lends

  @Test
  void shouldLendOncePerRequestIdEvenWhenAskedAgain() {
    OwnedObject obj = boxOwnedByB("v");
    HomeReply.Lent first = lend(obj, C, 7);
    HomeReply.Lent again = lend(obj, C, 7);
    assertEquals(first, again);
    assertEquals(W, obj.lentWeight(), "counted once");
    assertEquals(1, ports.published, "published once");
    assertEquals(1, ports.lentOut);
  }

  @Test
  void shouldTakeBackALendWhoseRequesterGaveUpAfterItWasGranted() {
    OwnedObject obj = boxOwnedByB("v");
    lend(obj, C, 7);
    tell(new HomeRequest.CancelLend(HOME.value(), obj.objectId(), C.value(), 7));
    assertEquals(0, obj.lentWeight());
    assertInstanceOf(HomeReply.HandedOver.class, ask(handOver(obj, B, 42)).only());
  }

  @Test
  void shouldTakeBackALendWhoseRequesterGaveUpBeforeItWasGranted() {
    OwnedObject obj = boxOwnedByB("v");
    obj.tryAcquire(BorrowState.Kind.EXCLUSIVE, null, 0, "a local write");
    Answers lend = ask(new HomeRequest.Lend(HOME.value(), obj.objectId(), 0, C.value(), 7));
    tell(new HomeRequest.CancelLend(HOME.value(), obj.objectId(), C.value(), 7));
    obj.endExclusive(); // the lend is granted now, and given back at once
    assertTrue(lend.pending(), "nobody is answered");
    assertEquals(0, obj.lentWeight());
  }

  @Test
  void shouldRefuseALendWhenTheSnapshotCannotBePublished() {
    OwnedObject obj = boxOwnedByB("v");
    ports.failPublish = true;
    HomeReply r = ask(new HomeRequest.Lend(HOME.value(), obj.objectId(), 0, C.value(), 1)).only();
    assertEquals(Reason.FAILED, refusal(r));
    assertEquals(0, obj.lentWeight(), "the lend is not kept");
  }

  @Test
  void shouldIgnoreTheReleaseOfAnOlderColor() {
    OwnedObject obj = boxOwnedByB("v");
    HomeReply.Lent lent = lend(obj, C, 1);
    tell(new HomeRequest.Release(HOME.value(), obj.objectId(), 5, C.value(), lent.weight()));
    assertEquals(W, obj.lentWeight());
  }

  @Test
  void shouldAttributeAnAdoptedReferenceToItsNewHolder() {
    OwnedObject obj = boxOwnedByB("v");
    lend(obj, B, 1);
    tell(
        new HomeRequest.Adopt(
            HOME.value(), obj.objectId(), 0, B.value(), C.value(), W / 2, 9, false, false));
    Map<NodeId, Integer> holders = obj.holders().lentRefs();
    assertEquals(Map.of(B, 1, C, 1), holders);
    assertEquals(W, obj.lentWeight(), "an adoption moves weight, it adds none");
  }

  @Test
  void shouldTopUpAReferenceThatAskedForMore() {
    OwnedObject obj = boxOwnedByB("v");
    lend(obj, C, 1);
    tell(
        new HomeRequest.Adopt(
            HOME.value(), obj.objectId(), 0, C.value(), C.value(), 0, 9, false, true));
    assertEquals(2 * W, obj.lentWeight());
    assertEquals(
        List.of(Map.entry(C, new HolderNotice.ToppedUp(9, HOME.value(), obj.objectId(), 0, W))),
        ports.notices);
  }

  @Test
  void shouldRevokeAReferenceAdoptedAfterItsVersionChanged() {
    OwnedObject obj = boxOwnedByB("v");
    ports.departed.add(B); // B sent it and left; meanwhile the object was written
    tell(
        new HomeRequest.Adopt(
            HOME.value(), obj.objectId(), 3, B.value(), C.value(), W, 9, false, false));
    assertEquals(1, ports.notices.size());
    assertEquals(C, ports.notices.get(0).getKey());
    HolderNotice.Revoked revoked =
        assertInstanceOf(HolderNotice.Revoked.class, ports.notices.get(0).getValue());
    assertEquals(9, revoked.refId());
  }

  @Test
  void shouldCountAfreshAReferenceWhoseSenderLeftBeforeTheAdoption() {
    OwnedObject obj = table.allocate("v"); // owned by a box on the home
    lend(obj, B, 1);
    ports.departed.add(B);
    home.departed(B); // B's weight is reclaimed
    assertEquals(0, obj.lentWeight());
    tell(
        new HomeRequest.Adopt(
            HOME.value(), obj.objectId(), 0, B.value(), C.value(), W / 2, 9, false, false));
    assertEquals(W / 2, obj.lentWeight(), "the reference on C protects its version again");
  }

  @Test
  void shouldRevokeAReferenceAdoptedForAnObjectThatIsGone() {
    tell(new HomeRequest.Adopt(HOME.value(), 77, 0, B.value(), C.value(), W, 9, false, false));
    assertEquals(C, ports.notices.get(0).getKey());
    assertInstanceOf(HolderNotice.Revoked.class, ports.notices.get(0).getValue());
  }

  // ------------------------------------------------------------------ suspect references

  @Test
  void shouldConfirmOnlyAReferenceItCounts() {
    OwnedObject obj = boxOwnedByB("v");
    lend(obj, C, 1);
    HomeReply.Confirmed counted =
        assertInstanceOf(
            HomeReply.Confirmed.class,
            ask(new HomeRequest.Confirm(HOME.value(), obj.objectId(), 0, C.value())).only());
    assertTrue(counted.ok());
    HomeReply.Confirmed notCounted =
        assertInstanceOf(
            HomeReply.Confirmed.class,
            ask(new HomeRequest.Confirm(HOME.value(), obj.objectId(), 0, B.value())).only());
    assertFalse(notCounted.ok());
    assertTrue(notCounted.reason().contains("changed"), notCounted.reason());
    HomeReply.Confirmed gone =
        assertInstanceOf(
            HomeReply.Confirmed.class,
            ask(new HomeRequest.Confirm(HOME.value(), 77, 0, C.value())).only());
    assertFalse(gone.ok());
  }

  // ------------------------------------------------------------------ departures

  @Test
  void shouldReclaimADepartedNodesReferencesSoAWaitingWriterProceeds() {
    OwnedObject obj = boxOwnedByB("v");
    lend(obj, C, 1);
    Answers move = ask(handOver(obj, B, 42));
    ports.departed.add(C);
    HomeProtocol.Departure left = home.departed(C);
    assertEquals(1, left.reclaimedRefs());
    assertInstanceOf(HomeReply.HandedOver.class, move.only());
  }

  @Test
  void shouldDropWhatADepartedNodeOwnedOnceItsReferencesAreBack() {
    OwnedObject obj = boxOwnedByB("v");
    HomeReply.Lent lent = lend(obj, C, 1);
    ports.departed.add(B);
    assertEquals(1, home.departed(B).orphans());
    assertEquals(BorrowState.Phase.ACTIVE, obj.phase(), "C still reads it");
    tell(new HomeRequest.Release(HOME.value(), obj.objectId(), 0, C.value(), lent.weight()));
    assertEquals(BorrowState.Phase.DROPPED, obj.phase());
    assertEquals(Reason.DROPPED, refusal(ask(handOver(obj, C, 1)).only()));
  }

  @Test
  void shouldDropABoxAdoptedByANodeThatHasAlreadyLeft() {
    OwnedObject obj = table.allocate("v");
    obj.boxHolder(null); // in transit to C
    ports.departed.add(C);
    tell(
        new HomeRequest.Adopt(
            HOME.value(), obj.objectId(), 0, B.value(), C.value(), 0, 0, true, false));
    assertEquals(BorrowState.Phase.DROPPED, obj.phase());
  }

  @Test
  void shouldRecordTheNewOwnerOfASentBox() {
    OwnedObject obj = table.allocate("v");
    tell(
        new HomeRequest.Adopt(
            HOME.value(), obj.objectId(), 0, HOME.value(), C.value(), 0, 0, true, false));
    assertEquals(C, obj.boxHolder());
  }

  @Test
  void shouldAnswerLostForTheObjectsOfAnotherNode() {
    HomeReply r = ask(new HomeRequest.Lend(B.value(), 5, 0, C.value(), 1)).only();
    assertEquals(Reason.LOST, refusal(r));
    assertTrue(((HomeReply.Refused) r).detail().contains("lost"));
    HomeReply.Confirmed confirmed =
        assertInstanceOf(
            HomeReply.Confirmed.class,
            ask(new HomeRequest.Confirm(B.value(), 5, 0, C.value())).only());
    assertFalse(confirmed.ok());
  }

  @Test
  void shouldAnswerUnknownForAnObjectItNeverHad() {
    assertEquals(
        Reason.UNKNOWN, refusal(ask(new HomeRequest.Drop(HOME.value(), 77, 0, B.value())).only()));
  }

  // ------------------------------------------------------------------ freeze, drop, where

  @Test
  void shouldDropOnceTheLentReferencesAreBack() {
    OwnedObject obj = boxOwnedByB("v");
    HomeReply.Lent lent = lend(obj, C, 1);
    Answers drop = ask(new HomeRequest.Drop(HOME.value(), obj.objectId(), 0, B.value()));
    assertTrue(drop.pending());
    tell(new HomeRequest.Release(HOME.value(), obj.objectId(), 0, C.value(), lent.weight()));
    assertInstanceOf(HomeReply.Dropped.class, drop.only());
    assertTrue(drop.objectLeft);
    assertEquals(
        Reason.DROPPED, refusal(ask(new HomeRequest.Where(HOME.value(), obj.objectId())).only()));
  }

  @Test
  void shouldFreezeABoxIntoSharedOwnership() {
    OwnedObject obj = boxOwnedByB("v");
    HomeReply.Lent share =
        assertInstanceOf(
            HomeReply.Lent.class,
            ask(new HomeRequest.Freeze(HOME.value(), obj.objectId(), 0, B.value())).only());
    assertEquals(W, share.weight());
    assertEquals(ObjectKind.ARC, obj.kind());
    assertEquals(Reason.FAILED, refusal(ask(handOver(obj, B, 42)).only()), "no longer a box");
    tell(new HomeRequest.Release(HOME.value(), obj.objectId(), 0, B.value(), W));
    assertEquals(BorrowState.Phase.DROPPED, obj.phase(), "the last share dropped frees it");
  }

  @Test
  void shouldTellWhereABoxsSnapshotIsPublishingItFirst() {
    OwnedObject obj = boxOwnedByB("v");
    HomeReply.At at =
        assertInstanceOf(
            HomeReply.At.class, ask(new HomeRequest.Where(HOME.value(), obj.objectId())).only());
    assertEquals(obj.objectId(), at.object());
    assertEquals(obj.locator(), at.locator());
    assertTrue(at.locator() != 0);
  }

  // ------------------------------------------------------------------ atomics

  OwnedObject atomic(long initial) {
    long id = table.nextObjectId();
    long cell = store.region().allocateCell(SyncLayout.KIND_ATOMIC, id);
    store.region().compareAndExchange(cell, id, SyncLayout.WORD, 0, initial, 0);
    return table.allocateShared(ObjectKind.ATOMIC, id, new AtomicCell(cell), W);
  }

  @Test
  void shouldApplyAtomicOperationsToTheCell() {
    OwnedObject obj = atomic(5);
    HomeReply.AtomicDone add =
        assertInstanceOf(
            HomeReply.AtomicDone.class,
            ask(new HomeRequest.AtomicOp(
                    HOME.value(), obj.objectId(), AtomicCell.Op.ADD_AND_GET, 2, 0))
                .only());
    assertEquals(7, add.value());
    HomeReply.AtomicDone cas =
        assertInstanceOf(
            HomeReply.AtomicDone.class,
            ask(new HomeRequest.AtomicOp(
                    HOME.value(), obj.objectId(), AtomicCell.Op.COMPARE_AND_SET, 7, 9))
                .only());
    assertTrue(cas.done());
    assertEquals(
        9,
        store.region().load(obj.atomicCell().cell(), obj.objectId(), SyncLayout.WORD, 0),
        "the cell is the value");
    assertEquals(
        Reason.FAILED,
        refusal(
            ask(new HomeRequest.AtomicOp(
                    HOME.value(), boxOwnedByB("v").objectId(), AtomicCell.Op.GET, 0, 0))
                .only()));
  }

  // ------------------------------------------------------------------ mutexes

  OwnedObject mutex(String value) {
    long id = table.nextObjectId();
    return table.allocateShared(ObjectKind.MUTEX, id, mutexes.create(id, value), W);
  }

  HomeRequest.Lock lockBy(OwnedObject m, NodeId holder, long lockId) {
    return new HomeRequest.Lock(HOME.value(), m.objectId(), holder.value(), lockId);
  }

  HomeRequest.Unlock unlockBy(OwnedObject m, NodeId holder, String value) {
    return new HomeRequest.Unlock(
        HOME.value(), m.objectId(), holder.value(), 0, ports.encodeValue(value));
  }

  long word(OwnedObject m) {
    return store.region().load(m.mutexCell().cell(), m.objectId(), SyncLayout.WORD, 0);
  }

  String committed(OwnedObject m) {
    ReadBuffer out = new ReadBuffer(64);
    mutexes.readCommitted(m.mutexCell(), m.objectId(), out);
    return (String) store.decode(out);
  }

  @Test
  void shouldServeLocksInOrderAndCommitEachUnlock() {
    OwnedObject m = mutex("v0");
    HomeReply.Locked first = assertInstanceOf(HomeReply.Locked.class, ask(lockBy(m, B, 1)).only());
    assertTrue(LockWord.heldByNode(first.word(), B));
    assertEquals(0, first.color());
    assertEquals("v0", store.decodeValue(first.value()));
    Answers second = ask(lockBy(m, C, 2));
    assertTrue(second.pending(), "the lock is B's");
    assertTrue(LockWord.hasWaiters(word(m)), "B will hand the lock to the home");
    assertInstanceOf(HomeReply.Unlocked.class, ask(unlockBy(m, B, "v1")).only());
    HomeReply.Locked next = assertInstanceOf(HomeReply.Locked.class, second.only());
    assertTrue(LockWord.heldByNode(next.word(), C), "passed to C at once");
    assertEquals("v1", store.decodeValue(next.value()));
    assertEquals(1, next.color());
    assertFalse(LockWord.hasWaiters(word(m)), "nobody else waits");
  }

  @Test
  void shouldLetALockerTakeAFreeLockOneSidedAndQueueOthersBehindIt() {
    OwnedObject m = mutex("v0");
    SyncAccess region = store.region();
    long cell = m.mutexCell().cell();
    long held = MutexSteps.tryLock(region, cell, m.objectId(), LockWord.token(B, 1), 0);
    assertTrue(LockWord.heldByNode(held, B), "no message");
    Answers waiting = ask(lockBy(m, C, 2));
    assertTrue(waiting.pending());
    assertEquals(
        MutexSteps.NOT_FREE,
        MutexSteps.tryLock(region, cell, m.objectId(), LockWord.token(C, 1), 0),
        "held");
    byte[] frame = store.frame("v1", m.objectId(), 1);
    long seen = word(m); // the waiters flag was set meanwhile
    assertEquals(
        MutexSteps.Outcome.HANDED_OFF,
        MutexSteps.commit(region, cell, m.objectId(), held, frame, frame.length, 1, 0),
        "the commit hands the lock to the home, where C waits");
    assertEquals(LockWord.HANDED_OFF, LockWord.holder(word(m)));
    assertTrue(LockWord.hasWaiters(seen));
    tell(new HomeRequest.HandedOff(HOME.value(), m.objectId()));
    HomeReply.Locked granted = assertInstanceOf(HomeReply.Locked.class, waiting.only());
    assertEquals("v1", store.decodeValue(granted.value()));
  }

  @Test
  void shouldReleaseALockWhoseWaiterGaveUpWhenItIsGranted() {
    OwnedObject m = mutex("v0");
    ask(lockBy(m, B, 1));
    Answers waiting = ask(lockBy(m, C, 2));
    tell(new HomeRequest.CancelLock(HOME.value(), m.objectId(), C.value(), 2));
    assertFalse(LockWord.hasWaiters(word(m)), "nobody waits any more");
    ask(unlockBy(m, B, "v1"));
    assertTrue(waiting.pending(), "the waiter gave up: nobody is answered");
    assertInstanceOf(HomeReply.Locked.class, ask(lockBy(m, B, 3)).only(), "and nobody holds it");
  }

  @Test
  void shouldReleaseAGrantedLockWhoseHolderGaveUpAndRefuseItsLateUnlock() {
    OwnedObject m = mutex("v0");
    ask(lockBy(m, B, 1));
    tell(new HomeRequest.CancelLock(HOME.value(), m.objectId(), B.value(), 1));
    assertTrue(LockWord.isFree(word(m)));
    assertEquals(Reason.STALE, refusal(ask(unlockBy(m, B, "late")).only()));
    assertEquals("v0", committed(m), "the late value is not committed");
    assertInstanceOf(HomeReply.Locked.class, ask(lockBy(m, C, 2)).only());
  }

  @Test
  void shouldTakeTheLockBackFromADepartedHolderAndFenceItsLateCommit() {
    OwnedObject m = mutex("v0");
    long cell = m.mutexCell().cell();
    long held = ((HomeReply.Locked) ask(lockBy(m, B, 1)).only()).word();
    long oldSlot = MutexSteps.slot(store.region(), cell, m.objectId(), 1, 0);
    Answers waiting = ask(lockBy(m, C, 2));
    ports.departed.add(B);
    assertEquals(1, home.departed(B).locksReleased());
    HomeReply.Locked next = assertInstanceOf(HomeReply.Locked.class, waiting.only());
    assertEquals("v0", store.decodeValue(next.value()), "the last committed value stands");
    assertTrue(
        MutexSteps.slot(store.region(), cell, m.objectId(), 1, 0) != oldSlot,
        "the value moved to slots B cannot know");
    byte[] late = store.frame("fenced", m.objectId(), 1);
    assertEquals(
        MutexSteps.Outcome.FENCED,
        MutexSteps.commit(store.region(), cell, m.objectId(), held, late, late.length, 1, 0),
        "B's late commit is refused");
    assertEquals(Reason.STALE, refusal(ask(unlockBy(m, B, "fenced")).only()));
    assertEquals("v0", committed(m));
  }

  @Test
  void shouldNotGrantALockToANodeThatHasLeft() {
    OwnedObject m = mutex("v0");
    ask(lockBy(m, B, 1));
    Answers fromGone = ask(lockBy(m, C, 2));
    ports.departed.add(C);
    ask(unlockBy(m, B, "v1"));
    assertTrue(fromGone.pending());
    assertInstanceOf(HomeReply.Locked.class, ask(lockBy(m, B, 3)).only());
  }

  @Test
  void shouldGrantALargeValueWithoutItsBytesForAOneSidedRead() {
    OwnedObject m = mutex("x".repeat(FakePorts.INLINE_LIMIT + 1));
    HomeReply.Locked l = assertInstanceOf(HomeReply.Locked.class, ask(lockBy(m, B, 1)).only());
    assertEquals(0, l.value().length, "too large for the answer: read one-sided");
  }

  @Test
  void shouldGrowTheSlotsForAValueThatOutgrewThem() {
    OwnedObject m = mutex("v0");
    ask(lockBy(m, B, 1));
    String large = "y".repeat(2_000);
    assertInstanceOf(HomeReply.Unlocked.class, ask(unlockBy(m, B, large)).only());
    assertEquals(large, committed(m));
  }

  @Test
  void shouldKeepTheCommittedValueWhenAnUnlockCannotBeRead() {
    OwnedObject m = mutex("v0");
    ask(lockBy(m, B, 1));
    assertEquals(Reason.FAILED, refusal(ask(unlockBy(m, B, "corrupt bytes")).only()));
    assertEquals("v0", committed(m));
    assertInstanceOf(HomeReply.Locked.class, ask(lockBy(m, C, 2)).only(), "the lock was released");
  }

  @Test
  void shouldRefuseALockAtItsDeadlineNamingItsHolder() {
    OwnedObject m = mutex("v0");
    ask(lockBy(m, B, 1));
    Answers waiting = ask(lockBy(m, C, 2));
    timing.advance(SECOND);
    HomeReply.Refused r = assertInstanceOf(HomeReply.Refused.class, waiting.only());
    assertEquals(Reason.CONFLICT, r.reason());
    assertTrue(r.detail().contains(Long.toHexString(LockWord.tag(B))), r.detail());
    assertFalse(LockWord.hasWaiters(word(m)), "the flag goes with the last waiter");
  }

  @Test
  void shouldTellWhereAMutexCellIsWithoutWaitingForItsLock() {
    OwnedObject m = mutex("v0");
    ask(lockBy(m, B, 1));
    HomeReply.At at =
        assertInstanceOf(
            HomeReply.At.class, ask(new HomeRequest.Where(HOME.value(), m.objectId())).only());
    assertEquals(m.mutexCell().cell(), at.locator());
  }

  // ------------------------------------------------------------------ functions run here

  @Test
  void shouldRunAWriteAtTheHomeAndAnswerWithTheNewColor() {
    OwnedObject obj = boxOwnedByB("v");
    ports.functions.put("len", v -> ((String) v).length());
    byte[] fn = "len".getBytes(StandardCharsets.UTF_8);
    HomeReply.TaskResult r =
        assertInstanceOf(
            HomeReply.TaskResult.class,
            ask(new HomeRequest.RunAt(HOME.value(), obj.objectId(), 0, RunMode.WRITE, fn)).only());
    assertArrayEquals("1".getBytes(StandardCharsets.UTF_8), r.result());
    assertEquals(1, obj.color());
    assertEquals(1, r.color());
    assertEquals(
        Reason.STALE,
        refusal(
            ask(new HomeRequest.RunAt(HOME.value(), obj.objectId(), 0, RunMode.WRITE, fn)).only()),
        "a task for an older color");
  }

  @Test
  void shouldRefuseAFunctionWhoseModeDoesNotFitTheObject() {
    byte[] fn = "len".getBytes(StandardCharsets.UTF_8);
    OwnedObject box = boxOwnedByB("v");
    assertEquals(
        Reason.FAILED,
        refusal(
            ask(new HomeRequest.RunAt(HOME.value(), box.objectId(), 0, RunMode.LOCKED, fn))
                .only()));
    OwnedObject m = mutex("v0");
    assertEquals(
        Reason.FAILED,
        refusal(
            ask(new HomeRequest.RunAt(HOME.value(), m.objectId(), 0, RunMode.WRITE, fn)).only()));
  }

  @Test
  void shouldRunAnUpdateUnderAMutexsLockInTurn() {
    OwnedObject m = mutex("v0");
    ports.functions.put("upper", v -> ((String) v).toUpperCase());
    byte[] fn = "upper".getBytes(StandardCharsets.UTF_8);
    ask(lockBy(m, B, 1));
    Answers update = ask(new HomeRequest.RunAt(HOME.value(), m.objectId(), 0, RunMode.LOCKED, fn));
    assertTrue(update.pending(), "waits for the lock");
    ask(unlockBy(m, B, "v1"));
    HomeReply.TaskResult r = assertInstanceOf(HomeReply.TaskResult.class, update.only());
    assertEquals("V1", text(r.result()));
    assertEquals("V1", committed(m));
    assertTrue(LockWord.isFree(word(m)));
  }
}
