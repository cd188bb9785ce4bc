package dev.pekkodsm.coherence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ObjectTableTest {

  static final NodeId HOME = NodeId.of(0x10);
  static final NodeId B = NodeId.of(0x20);

  final ManualTiming timing = new ManualTiming();
  final List<Long> freed = new ArrayList<>();
  final ObjectTable table = new ObjectTable(HOME, timing, freed::add, 100, Duration.ofMinutes(1));

  @Test
  void shouldNeverHandOutAnIdTwiceNorZero() {
    long a = table.allocate("a").objectId();
    long b = table.allocate("b").objectId();
    assertNotEquals(a, b);
    assertNotEquals(0, a);
    assertEquals(2, table.size());
  }

  @Test
  void shouldLeaveATombstoneSayingWhereAMovedObjectWent() {
    OwnedObject obj = table.allocate("v");
    obj.tryAcquire(BorrowState.Kind.EXCLUSIVE, null, 0, "move");
    GlobalAddress there = new GlobalAddress(B, 9, 0);
    table.retire(obj, BorrowState.Phase.MOVED, there);
    assertNull(table.get(obj.objectId()));
    Tombstones.Tombstone t = table.tombstone(obj.objectId());
    assertEquals(BorrowState.Phase.MOVED, t.phase());
    assertEquals(there, t.movedTo());
  }

  @Test
  void shouldFileAnObjectAgainUnderANewIdWhenItsColorsRunOut() {
    OwnedObject obj =
        new OwnedObject(HOME, table.nextObjectId(), Integer.MAX_VALUE, "v", timing, freed::add);
    OwnedObject other = table.allocate("other");
    obj.tryAcquire(BorrowState.Kind.EXCLUSIVE, null, 0, "write");
    long before = obj.objectId();
    table.endWrite(obj);
    assertNotEquals(before, obj.objectId(), "no cached copy can match the new address");
    assertEquals(0, obj.color());
    assertSame(obj, table.get(obj.objectId()));
    assertNull(table.get(before));
    assertSame(other, table.get(other.objectId()));
  }

  @Test
  void shouldDropASharedObjectWhenItsLastShareComesBack() {
    OwnedObject arc = table.allocateShared(ObjectKind.ARC, "v", LendLedger.INITIAL_WEIGHT);
    assertEquals(ObjectKind.ARC, arc.kind());
    assertNull(arc.boxHolder(), "no box owns it");
    arc.returnLend(HOME, LendLedger.INITIAL_WEIGHT, 0);
    assertEquals(BorrowState.Phase.DROPPED, arc.phase());
    assertNull(table.get(arc.objectId()));
  }

  @Test
  void shouldRefuseACellOfTheWrongKind() {
    assertThrows(
        IllegalArgumentException.class,
        () -> table.allocateShared(ObjectKind.MUTEX, "not a cell", LendLedger.INITIAL_WEIGHT));
    assertThrows(
        IllegalArgumentException.class,
        () -> table.allocateShared(ObjectKind.BOX, "v", LendLedger.INITIAL_WEIGHT));
  }

  @Test
  void shouldHoldAMovedObjectForTheWriteThatMovedIt() {
    OwnedObject moved = table.allocateMoved(table.nextObjectId(), "v");
    assertEquals(
        BorrowState.Attempt.MUST_WAIT,
        moved.tryAcquire(BorrowState.Kind.SHARED, null, 0, null),
        "nothing slips in before the write");
    table.endWrite(moved);
    assertEquals(1, moved.color());
  }

  @Test
  void shouldRestoreARecoveredObjectUnderItsOldAddressAndNeverReuseItsId() {
    OwnedObject obj = table.restore(ObjectKind.ARC, 41, 7, "v", 0x1000, 64);
    assertEquals(new GlobalAddress(HOME, 41, 7), obj.address());
    assertEquals(0x1000, obj.locator());
    assertSame(obj, table.get(41));
    assertEquals(42, table.nextObjectId());
    assertThrows(
        IllegalArgumentException.class, () -> table.restore(ObjectKind.ARC, 41, 0, "w", 0, 0));
    assertThrows(
        IllegalArgumentException.class, () -> table.restore(ObjectKind.MUTEX, 50, 0, "w", 0, 0));
    table.reserveIdsUpTo(10); // lower: no effect
    assertEquals(43, table.nextObjectId());
  }

  @Test
  void shouldRestoreAnAtomicWithItsCellAndRefuseOtherKindsThere() {
    AtomicCell cell = new AtomicCell(4096 + 64);
    OwnedObject obj = table.restoreCell(ObjectKind.ATOMIC, 60, 0, cell);
    assertSame(cell, obj.atomicCell());
    assertSame(obj, table.get(60));
    assertEquals(61, table.nextObjectId());
    assertThrows(
        IllegalArgumentException.class, () -> table.restoreCell(ObjectKind.ARC, 61, 0, cell));
    assertThrows(
        IllegalArgumentException.class, () -> table.restoreCell(ObjectKind.MUTEX, 62, 0, cell));
    assertThrows(
        IllegalArgumentException.class, () -> table.restoreCell(ObjectKind.ATOMIC, 60, 0, cell));
  }

  @Test
  void shouldEndAWriteWithItsSnapshotAlreadyPublished() {
    OwnedObject obj = table.allocate("v");
    obj.published(0, 0x100, 40);
    obj.tryAcquire(BorrowState.Kind.EXCLUSIVE, null, 0, "write");
    assertEquals(new GlobalAddress(HOME, obj.objectId(), 1), obj.addressAfterWrite(99));
    table.endWrite(obj, 99, 0x200, 44);
    assertEquals(1, obj.color());
    assertEquals(0x200, obj.locator());
    assertEquals(List.of(0x100L), freed, "the old color's snapshot is freed");
  }
}
