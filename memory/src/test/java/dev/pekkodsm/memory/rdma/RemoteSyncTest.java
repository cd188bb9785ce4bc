package dev.pekkodsm.memory.rdma;

import static dev.pekkodsm.memory.rdma.NicStandIn.CELLS_BASE;
import static dev.pekkodsm.memory.rdma.NicStandIn.CELLS_RKEY;
import static dev.pekkodsm.memory.rdma.NicStandIn.VALUES_BASE;
import static dev.pekkodsm.memory.rdma.NicStandIn.VALUES_RKEY;
import static dev.pekkodsm.memory.rdma.RdmaFrames.NODE;
import static dev.pekkodsm.memory.rdma.RdmaFrames.decode;
import static dev.pekkodsm.memory.rdma.RdmaFrames.frame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.memory.ActiveValue;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SlotLayout;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncLayout;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.memory.SyncStatus;
import dev.pekkodsm.memory.rdma.NicStandIn.Op;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the rdma sync protocol posts, against a stand-in for the NIC that records every work
 * request: opcodes, remote addresses (the registered base of the region plus the cell and the
 * field), keys, operands and lengths; the refusal of a misaligned atomic; the byte order the NIC's
 * atomics and the owner's {@code VarHandle}s share; and what a work request that does not complete
 * or fails turns into.
 */
@Timeout(30)
class RemoteSyncTest {

  static final long OBJECT = 0x77;

  @TempDir Path dir;
  SnapshotArena arena;
  SyncRegion region;
  NicStandIn nic;
  RemoteSync sync;

  @BeforeEach
  void createRegion() {
    arena = RdmaFrames.arena(dir, NODE, 1 << 20, 2);
    region = SyncRegion.create(arena, 64);
    nic = new NicStandIn(arena, region, 4096);
    sync = nic.sync(NODE);
  }

  @AfterEach
  void close() {
    region.close();
    arena.close();
  }

  static long soon() {
    return System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
  }

  static Op cellRead(long cell) {
    return new Op("READ", CELLS_RKEY, CELLS_BASE + cell, SyncLayout.CELL_BYTES, 0, 0);
  }

  @Test
  void shouldExchangeAtTheRegionBasePlusCellPlusFieldAfterReadingTheCell() {
    long cell = region.allocateCell(SyncLayout.KIND_MUTEX, OBJECT);
    assertEquals(0, sync.compareAndExchange(cell, OBJECT, SyncLayout.FULL_VERSION, 0, 77, soon()));
    assertEquals(
        List.of(
            cellRead(cell),
            new Op("CAS", CELLS_RKEY, CELLS_BASE + cell + SyncLayout.FULL_VERSION, 8, 0, 77)),
        nic.posted);
    assertEquals(77, region.load(cell, OBJECT, SyncLayout.FULL_VERSION, soon()));
  }

  @Test
  void shouldAddWithTheDeltaAsTheOperand() {
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    region.getAndAdd(cell, OBJECT, SyncLayout.WORD, 40, soon());
    assertEquals(40, sync.getAndAdd(cell, OBJECT, SyncLayout.WORD, -3, soon()));
    assertEquals(
        List.of(cellRead(cell), new Op("FAA", CELLS_RKEY, CELLS_BASE + cell, 8, -3, 0)),
        nic.posted);
    assertEquals(37, region.load(cell, OBJECT, SyncLayout.WORD, soon()));
  }

  @Test
  void shouldLoadAWordWithOneReadOfTheCell() {
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    region.compareAndExchange(cell, OBJECT, SyncLayout.LOCATOR_B, 0, 0x1234, soon());
    assertEquals(0x1234, sync.load(cell, OBJECT, SyncLayout.LOCATOR_B, soon()));
    assertEquals(List.of(cellRead(cell)), nic.posted);
  }

  @Test
  void shouldPostNothingForAnotherObjectsCellButTheReadThatFindsOut() {
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    SyncFailedException e =
        assertThrows(
            SyncFailedException.class,
            () -> sync.getAndAdd(cell, OBJECT + 1, SyncLayout.WORD, 1, soon()));
    assertEquals(SyncStatus.NOT_THIS_OBJECT, e.status());
    assertEquals(List.of(cellRead(cell)), nic.posted);
  }

  @Test
  void shouldRefuseAMisalignedAtomicBeforePostingAnything() {
    long cell = region.allocateCell(SyncLayout.KIND_MUTEX, OBJECT);
    nic.cellsBase = CELLS_BASE + 4; // a registration the region's words would not be aligned in
    for (Runnable op :
        List.<Runnable>of(
            () -> sync.compareAndExchange(cell, OBJECT, SyncLayout.WORD, 0, 1, soon()),
            () -> sync.getAndAdd(cell, OBJECT, SyncLayout.WORD, 1, soon()),
            () ->
                sync.writeThenExchange(
                    cell, OBJECT, SyncLayout.LOCATOR_A, new byte[64], 64, 0, 1, soon()),
            () ->
                sync.exchangeThenRead(
                    cell, OBJECT, 0, 0, 1, Long.MIN_VALUE, new ReadBuffer(64), soon()))) {
      SyncFailedException e = assertThrows(SyncFailedException.class, op::run);
      assertEquals(SyncStatus.OUT_OF_RANGE, e.status());
      assertTrue(e.getMessage().contains("8-byte aligned"), e.getMessage());
    }
    assertEquals(List.of(), nic.posted);
    assertEquals(0, region.load(cell, OBJECT, SyncLayout.WORD, soon()));
  }

  @Test
  void shouldShareTheRegionsLittleEndianWordsWithTheOwnersVarHandles() {
    boolean littleEndianHost = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    assertEquals(littleEndianHost, RdmaArenaServer.offersSync(region), "offered only where agreed");
    assertFalse(RdmaArenaServer.offersSync(null));
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    long value = 0x0102_0304_0506_0708L;
    assertEquals(0, sync.getAndAdd(cell, OBJECT, SyncLayout.WORD, value, soon()));
    ByteBuffer raw = region.cellsForRegistration();
    for (int i = 0; i < 8; i++) {
      assertEquals(8 - i, raw.get((int) cell + i), "byte " + i + " of the word, little-endian");
    }
    assertEquals(value, region.load(cell, OBJECT, SyncLayout.WORD, soon()), "the owner agrees");
    long owners = 0x1122_3344_5566_7788L;
    assertEquals(
        value, region.compareAndExchange(cell, OBJECT, SyncLayout.WORD, value, owners, soon()));
    assertEquals(owners, sync.load(cell, OBJECT, SyncLayout.WORD, soon()), "a read agrees");
    assertEquals(owners, sync.compareAndExchange(cell, OBJECT, SyncLayout.WORD, owners, 5, soon()));
    assertEquals(5, region.load(cell, OBJECT, SyncLayout.WORD, soon()), "and so does an atomic");
  }

  @Test
  void shouldWriteAValueUnderTheSlotsSeqlock() {
    byte[] first = frame(NODE, "one", OBJECT, 1);
    byte[] second = frame(NODE, "two", OBJECT, 2);
    long slot = region.allocateValue(first, first.length, 256);
    long at = VALUES_BASE + SlotLayout.offset(slot); // segment 0
    long sequence = region.valuesForRegistration(0).getLong((int) SlotLayout.offset(slot));
    assertEquals(0, sequence & 1, "a stable slot");
    sync.writeValue(slot, second, second.length, soon());
    int probe = SlotLayout.SLOT_HEADER_BYTES + SnapshotCodec.HEADER_BYTES;
    int firstBody = RemoteSlotRead.FRAME_IN_BODY + SnapshotCodec.HEADER_BYTES;
    assertEquals(
        List.of(
            new Op("READ", VALUES_RKEY, at, probe, 0, 0),
            new Op("CAS", VALUES_RKEY, at, 8, sequence, sequence + 1),
            new Op("READ_FIRST", VALUES_RKEY, at, firstBody, 0, 0),
            new Op("WRITE", VALUES_RKEY, at + SlotLayout.SLOT_HEADER_BYTES, second.length, 0, 0),
            new Op("CAS", VALUES_RKEY, at, 8, sequence + 1, sequence + 2)),
        nic.posted);
    ReadBuffer out = new ReadBuffer(64);
    assertEquals(ReadStatus.OK, region.readValue(slot, OBJECT, 2, out, soon()));
    assertEquals("two", decode(out));
  }

  @Test
  void shouldWriteALargeValueInChunksOfTheLocalBuffer() {
    byte[] first = frame(NODE, "x", OBJECT, 1);
    byte[] large = frame(NODE, "y".repeat(10_000), OBJECT, 2);
    long slot = region.allocateValue(first, first.length, large.length);
    sync.writeValue(slot, large, large.length, soon());
    List<Op> writes = nic.posted.stream().filter(op -> op.kind().equals("WRITE")).toList();
    assertEquals(3, writes.size(), "4096-byte chunks");
    assertEquals(large.length, writes.stream().mapToInt(Op::bytes).sum());
    ReadBuffer out = new ReadBuffer(64);
    assertEquals(ReadStatus.OK, sync.readValue(slot, OBJECT, 2, out, soon()));
    assertEquals("y".repeat(10_000), decode(out));
  }

  @Test
  void shouldLockAndReadTheGuessedSlotInOnePostAndSkipAKnownVersion() {
    long cell = region.allocateCell(SyncLayout.KIND_MUTEX, OBJECT);
    byte[] value = frame(NODE, "v1", OBJECT, 1);
    long slotA = region.allocateValue(value, value.length, 128);
    region.compareAndExchange(cell, OBJECT, SyncLayout.LOCATOR_A, 0, slotA, soon());
    ReadBuffer out = new ReadBuffer(64);
    ActiveValue known = sync.exchangeThenRead(cell, OBJECT, 0, 0, 2, 1, out, soon());
    assertEquals(new ActiveValue(0, 1, true, ReadStatus.OK), known);
    long at = VALUES_BASE + SlotLayout.offset(slotA);
    assertEquals(
        List.of(
            cellRead(cell),
            new Op("CAS", CELLS_RKEY, CELLS_BASE + cell, 8, 0, 2),
            new Op("READ_FIRST", VALUES_RKEY, at, 512, 0, 0)),
        nic.posted,
        "the exchange and the slot's read are one chain; a known version is not read again");
    assertEquals(2, region.load(cell, OBJECT, SyncLayout.WORD, soon()));

    nic.posted.clear();
    ActiveValue stale = sync.exchangeThenRead(cell, OBJECT, 0, 0, 4, 1, out, soon());
    assertEquals(new ActiveValue(2, -1, false, ReadStatus.STALE), stale);
    assertEquals(3, nic.posted.size(), "nothing read after a wrong guess");

    nic.posted.clear();
    ActiveValue fresh = sync.exchangeThenRead(cell, OBJECT, 0, 2, 6, Long.MIN_VALUE, out, soon());
    assertEquals(new ActiveValue(2, 1, false, ReadStatus.OK), fresh);
    assertEquals("v1", decode(out));
    assertEquals(3, nic.posted.size(), "the value came with the lock: " + nic.posted);
  }

  @Test
  void shouldReportAnAtomicThatDoesNotCompleteInTimeAsTimedOut() {
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    nic.answer = op -> op.kind().equals("CAS") ? ReadStatus.TIMED_OUT : ReadStatus.OK;
    SyncFailedException e =
        assertThrows(
            SyncFailedException.class,
            () -> sync.compareAndExchange(cell, OBJECT, SyncLayout.WORD, 0, 1, soon()));
    assertEquals(SyncStatus.TIMED_OUT, e.status());
  }

  @Test
  void shouldReportAFailedCompletionAsUnavailableWithAnUnknownOutcome() {
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    nic.answer =
        op -> {
          if (op.kind().equals("FAA")) {
            nic.failure = "an RDMA work request failed: IBV_WC_RETRY_EXC_ERR";
            return ReadStatus.UNAVAILABLE;
          }
          return ReadStatus.OK;
        };
    SyncFailedException e =
        assertThrows(
            SyncFailedException.class,
            () -> sync.getAndAdd(cell, OBJECT, SyncLayout.WORD, 1, soon()));
    assertEquals(SyncStatus.UNAVAILABLE, e.status());
    assertTrue(e.getMessage().contains("IBV_WC_RETRY_EXC_ERR"), e.getMessage());
    assertTrue(e.getMessage().contains("may or may not"), e.getMessage());
  }

  @Test
  void shouldReportAReadOfAValueThatDoesNotCompleteAsAStatus() {
    byte[] value = frame(NODE, "v", OBJECT, 1);
    long slot = region.allocateValue(value, value.length, 128);
    nic.answer = op -> ReadStatus.TIMED_OUT;
    assertEquals(
        ReadStatus.TIMED_OUT,
        sync.readValue(slot, OBJECT, SnapshotCodec.ANY_COLOR, new ReadBuffer(64), soon()));
    assertEquals(-1, sync.peekValueColor(slot, OBJECT, soon()));
  }
}
