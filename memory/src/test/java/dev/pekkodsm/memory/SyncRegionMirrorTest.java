package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.MAX_FRAME;
import static dev.pekkodsm.memory.Frames.NODE;
import static dev.pekkodsm.memory.Frames.decode;
import static dev.pekkodsm.memory.Frames.frame;
import static dev.pekkodsm.memory.Frames.settings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyncRegionMirrorTest {

  static final int CELLS = 64;
  static final long FAR = Long.MAX_VALUE;
  static final long FIVE_S = 5_000_000_000L;

  @TempDir Path dir;

  SnapshotArena primaryArena;
  SyncRegion primary;
  SnapshotArena mirrorArena;
  SyncRegion mirror;

  @BeforeEach
  void create() {
    primaryArena = SnapshotArena.create(settings(dir, 1 << 16, 4), NODE, CODEC);
    primary = SyncRegion.create(primaryArena, CELLS);
    ArenaEndpoint endpoint = primaryArena.endpoint();
    mirrorArena =
        SnapshotArena.mirror(
            primaryArena.settings(), NODE, endpoint.tokenHi(), endpoint.tokenLo(), CODEC);
    mirror = SyncRegion.mirror(mirrorArena, CELLS);
  }

  @AfterEach
  void close() {
    mirror.close();
    mirrorArena.close();
    primary.close();
    primaryArena.close();
  }

  /** The primary allocates a cell and ships the record. */
  long allocateCell(int kind, long object) {
    long cell = primary.allocateCell(kind, object);
    mirror.applyCellAllocated(cell, kind, object);
    return cell;
  }

  void freeCell(long cell) {
    primary.freeCell(cell);
    mirror.applyCellFreed(cell);
  }

  long allocateValue(byte[] frame, int frameCapacity) {
    long locator = primary.allocateValue(frame, frame.length, frameCapacity);
    int capacity = primary.valueCapacity(locator) + SlotLayout.SLOT_HEADER_BYTES;
    mirror.applyValueWrite(locator, capacity, frame, frame.length);
    return locator;
  }

  void freeValue(long locator) {
    primary.freeValue(locator);
    mirror.applyValueFree(locator);
  }

  static void assertSameBytes(ByteBuffer a, ByteBuffer b, String what) {
    int at = a.mismatch(b);
    assertEquals(-1, at, what + " differs at byte " + at);
  }

  void assertSameRegions() {
    assertSameBytes(primary.cells(), mirror.cells(), "the cells file");
    assertEquals(primary.values().segmentCount(), mirror.values().segmentCount());
    for (int i = 0; i < primary.values().segmentCount(); i++) {
      assertSameBytes(primary.values().segment(i), mirror.values().segment(i), "value segment");
    }
  }

  @Test
  void shouldHoldTheSameCellsAndValuesAfterRecordsAndOneSidedOperations() {
    Random random = new Random(5);
    Map<Long, Long> live = new LinkedHashMap<>(); // cell -> object
    Map<Long, Long> values = new LinkedHashMap<>(); // value slot -> object
    for (int step = 0; step < 400; step++) {
      int op = random.nextInt(8);
      if (live.size() < 40 && (op < 2 || live.isEmpty())) {
        long object = 100 + step;
        int kind = random.nextBoolean() ? SyncLayout.KIND_ATOMIC : SyncLayout.KIND_MUTEX;
        live.put(allocateCell(kind, object), object);
      } else if (op == 2) {
        long cell = new ArrayList<>(live.keySet()).get(random.nextInt(live.size()));
        live.remove(cell);
        freeCell(cell);
      } else if (op == 3 && values.size() < 20) {
        long object = 5000 + step;
        byte[] f = frame("v" + step, object, 0);
        values.put(allocateValue(f, f.length + random.nextInt(300)), object);
      } else if (op == 4 && !values.isEmpty()) {
        long slot = new ArrayList<>(values.keySet()).get(random.nextInt(values.size()));
        byte[] f = frame("w" + step, values.get(slot), step);
        // A writer applies its one-sided write to both regions.
        primary.writeValue(slot, f, f.length, FAR);
        mirror.writeValue(slot, f, f.length, FAR);
      } else if (op == 5 && !values.isEmpty()) {
        long slot = new ArrayList<>(values.keySet()).get(random.nextInt(values.size()));
        freeValue(slot);
        values.remove(slot);
      } else {
        long cell = new ArrayList<>(live.keySet()).get(random.nextInt(live.size()));
        long object = live.get(cell);
        int field = random.nextBoolean() ? SyncLayout.WORD : SyncLayout.FULL_VERSION;
        long delta = random.nextInt(1000) - 500;
        assertEquals(
            primary.getAndAdd(cell, object, field, delta, FAR),
            mirror.getAndAdd(cell, object, field, delta, FAR));
        long seen = primary.load(cell, object, field, FAR);
        assertEquals(
            primary.compareAndExchange(cell, object, field, seen, seen * 3, FAR),
            mirror.compareAndExchange(cell, object, field, seen, seen * 3, FAR));
      }
    }
    assertSameRegions();
    assertEquals(primary.liveCells(), live.size());
    ReadBuffer a = new ReadBuffer(64);
    ReadBuffer b = new ReadBuffer(64);
    for (Map.Entry<Long, Long> value : values.entrySet()) {
      ReadStatus status =
          primary.readValue(value.getKey(), value.getValue(), SnapshotCodec.ANY_COLOR, a, FAR);
      assertEquals(ReadStatus.OK, status);
      assertEquals(
          status,
          mirror.readValue(value.getKey(), value.getValue(), SnapshotCodec.ANY_COLOR, b, FAR));
      assertArrayEquals(Arrays.copyOf(a.bytes(), a.length()), Arrays.copyOf(b.bytes(), b.length()));
    }
  }

  @Test
  void shouldKeepOperationsAppliedSinceWhenACellRecordIsRepeated() {
    long cell = allocateCell(SyncLayout.KIND_ATOMIC, 7);
    primary.getAndAdd(cell, 7, SyncLayout.WORD, 42, FAR);
    mirror.getAndAdd(cell, 7, SyncLayout.WORD, 42, FAR);
    mirror.applyCellAllocated(cell, SyncLayout.KIND_ATOMIC, 7);
    assertEquals(42, mirror.load(cell, 7, SyncLayout.WORD, FAR));
    freeCell(cell);
    mirror.applyCellFreed(cell);
    assertSameRegions();
    assertThrows(SyncFailedException.class, () -> mirror.load(cell, 7, SyncLayout.WORD, FAR));
  }

  @Test
  void shouldRefuseHostileCellRecordsAndChangeNothing() {
    long cell = allocateCell(SyncLayout.KIND_MUTEX, 9);
    mirror.getAndAdd(cell, 9, SyncLayout.WORD, 3, FAR);
    byte[] before = copy(mirror.cells());
    long end = SyncLayout.fileBytes(CELLS);
    for (long bad : new long[] {0, 4095, SyncLayout.FIRST_CELL_OFFSET + 8, end, end + 64, -64}) {
      var e =
          assertThrows(
              IllegalArgumentException.class,
              () -> mirror.applyCellAllocated(bad, SyncLayout.KIND_ATOMIC, 1));
      assertTrue(e.getMessage().contains("names no cell"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> mirror.applyCellFreed(bad));
    }
    long other = cell + SyncLayout.CELL_BYTES;
    for (int kind : new int[] {SyncLayout.KIND_FREE, 12345}) {
      var e =
          assertThrows(
              IllegalArgumentException.class, () -> mirror.applyCellAllocated(other, kind, 1));
      assertTrue(e.getMessage().contains("kind"), e.getMessage());
    }
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> mirror.applyCellAllocated(cell, SyncLayout.KIND_MUTEX, 10));
    assertTrue(e.getMessage().contains("allocated to object"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> mirror.applyCellAllocated(cell, SyncLayout.KIND_ATOMIC, 9));
    assertArrayEquals(before, copy(mirror.cells()), "no byte changed");
    mirror.promote();
    assertEquals(1, mirror.liveCells());
  }

  private static byte[] copy(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }

  @Test
  void shouldAllocateOnlyFreeCellsAndSlotsOncePromoted() {
    Set<Long> live = new HashSet<>();
    List<Long> cells = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      cells.add(allocateCell(SyncLayout.KIND_ATOMIC, 300 + i));
    }
    for (int i = 0; i < 30; i++) {
      if (i % 3 == 0) {
        freeCell(cells.get(i));
      } else {
        live.add(cells.get(i));
        primary.getAndAdd(cells.get(i), 300 + i, SyncLayout.WORD, i, FAR);
        mirror.getAndAdd(cells.get(i), 300 + i, SyncLayout.WORD, i, FAR);
      }
    }
    byte[] kept = frame("kept", 77, 1);
    long keptSlot = allocateValue(kept, 100);
    byte[] dropped = frame("dropped", 78, 1);
    long droppedSlot = allocateValue(dropped, 100);
    freeValue(droppedSlot);

    mirror.promote();
    assertFalse(mirror.isMirror());
    assertFalse(mirror.values().isMirror(), "the value arena is promoted with the region");
    assertEquals(live.size(), mirror.liveCells());
    Set<Long> handedOut = new HashSet<>();
    assertThrows(
        ArenaFullException.class,
        () -> {
          for (int i = 0; i < CELLS + 1; i++) {
            long cell = mirror.allocateCell(SyncLayout.KIND_MUTEX, 900 + i);
            assertFalse(live.contains(cell), "live cell " + cell + " handed out");
            assertTrue(handedOut.add(cell), "cell " + cell + " handed out twice");
          }
        });
    assertEquals(CELLS - live.size(), handedOut.size());
    assertEquals(CELLS, mirror.liveCells());
    for (int i = 0; i < 30; i++) {
      if (i % 3 != 0) {
        assertEquals(i, mirror.load(cells.get(i), 300 + i, SyncLayout.WORD, FAR), "cell kept");
      }
    }

    byte[] fresh = frame("fresh", 79, 1);
    assertEquals(droppedSlot, mirror.allocateValue(fresh, fresh.length, 100), "freed slot reused");
    long another = mirror.allocateValue(fresh, fresh.length, 100);
    assertTrue(another != keptSlot && another != droppedSlot);
    ReadBuffer out = new ReadBuffer(16);
    assertEquals(ReadStatus.OK, mirror.readValue(keptSlot, 77, 1, out, FAR));
    assertEquals("kept", decode(out));
    byte[] next = frame("next", 77, 2);
    mirror.writeValue(keptSlot, next, next.length, FAR);
    assertEquals(ReadStatus.OK, mirror.readValue(keptSlot, 77, 2, out, FAR));
    mirror.freeCell(cells.get(1));
    assertEquals(CELLS - 1, mirror.liveCells());
  }

  @Test
  void shouldRefuseAllocationBeforePromotionAndRecordsAfter() {
    byte[] f = frame("v", 1, 0);
    long cell = allocateCell(SyncLayout.KIND_ATOMIC, 1);
    long slot = allocateValue(f, 64);
    assertTrue(mirror.isMirror());
    assertThrows(IllegalStateException.class, () -> mirror.allocateCell(SyncLayout.KIND_MUTEX, 2));
    assertThrows(IllegalStateException.class, () -> mirror.freeCell(cell));
    assertThrows(IllegalStateException.class, () -> mirror.allocateValue(f, f.length, 64));
    assertThrows(IllegalStateException.class, () -> mirror.freeValue(slot));
    assertEquals(0, mirror.load(cell, 1, SyncLayout.WORD, FAR), "the cell was kept");
    assertThrows(IllegalStateException.class, () -> primary.applyCellAllocated(cell, 1, 1));
    assertThrows(IllegalStateException.class, () -> primary.applyValueFree(slot));
    assertThrows(IllegalStateException.class, primary::promote);
    assertThrows(IllegalStateException.class, () -> SyncRegion.create(mirrorArena, CELLS));
    assertThrows(IllegalStateException.class, () -> SyncRegion.mirror(primaryArena, CELLS));

    mirror.promote();
    assertThrows(
        IllegalStateException.class,
        () -> mirror.applyCellAllocated(cell + 64, SyncLayout.KIND_ATOMIC, 2));
    assertThrows(IllegalStateException.class, () -> mirror.applyCellFreed(cell));
    assertThrows(IllegalStateException.class, () -> mirror.applyValueWrite(slot, 64, f, f.length));
    assertThrows(IllegalStateException.class, () -> mirror.applyValueFree(slot));
    assertThrows(IllegalStateException.class, mirror::promote);
    mirror.freeValue(slot);
    mirror.freeCell(cell);
    assertEquals(0, mirror.liveCells());
  }

  @Test
  void shouldServeTheMirrorThroughShmAsThePrimary() throws Exception {
    long cell = allocateCell(SyncLayout.KIND_MUTEX, 11);
    byte[] f = frame("value", 11, 4);
    long slot = allocateValue(f, 200);
    try (ShmTransport shm = new ShmTransport(CODEC, MAX_FRAME);
        PeerReader peer = shm.open(PeerEndpoint.shmOnly(mirrorArena.endpoint(), "test-host"))) {
      assertEquals(0, peer.getAndAdd(cell, 11, SyncLayout.WORD, 6, FAR));
      assertEquals(6, mirror.load(cell, 11, SyncLayout.WORD, FAR));
      ReadBuffer out = new ReadBuffer(16);
      assertEquals(ReadStatus.OK, peer.readValue(slot, 11, 4, out, FAR));
      assertEquals("value", decode(out));
      byte[] g = frame("changed", 11, 5);
      peer.writeValue(slot, g, g.length, FAR);
      assertEquals(ReadStatus.OK, mirror.readValue(slot, 11, 5, out, FAR));
      assertEquals("changed", decode(out));
      mirror.promote();
      assertEquals(6, peer.getAndAdd(cell, 11, SyncLayout.WORD, 1, FAR), "served after promotion");
    }
  }

  @Test
  void shouldServeTheMirrorThroughTcpAsThePrimary() throws Exception {
    long cell = allocateCell(SyncLayout.KIND_ATOMIC, 12);
    byte[] f = frame("value", 12, 1);
    long slot = allocateValue(f, 200);
    byte[] snapshot = frame("snapshot", 13, 0);
    long far = SlotLayout.locator(2, 4096); // segments 1 and 2 are created for it
    mirrorArena.applyWrite(far, SlotLayout.capacityFor(snapshot.length), snapshot, snapshot.length);
    try (TcpReadServer server = TcpReadServer.start(mirrorArena, mirror, TcpSettings.loopback());
        TcpTransport tcp = new TcpTransport(CODEC, MAX_FRAME, TcpSettings.loopback());
        PeerReader peer = tcp.open(TcpTransportTest.endpoint(mirrorArena, server))) {
      ReadBuffer out = new ReadBuffer(16);
      assertEquals(ReadStatus.OK, peer.read(far, 13, 0, out, System.nanoTime() + FIVE_S));
      assertEquals("snapshot", decode(out));
      assertEquals(0, peer.getAndAdd(cell, 12, SyncLayout.WORD, 4, System.nanoTime() + FIVE_S));
      assertEquals(4, mirror.load(cell, 12, SyncLayout.WORD, FAR));
      assertEquals(ReadStatus.OK, peer.readValue(slot, 12, 1, out, System.nanoTime() + FIVE_S));
      assertEquals("value", decode(out));
      mirror.promote();
      mirrorArena.promote();
      byte[] next = frame("after", 14, 0);
      long published = mirrorArena.publish(next, next.length);
      assertEquals(ReadStatus.OK, peer.read(published, 14, 0, out, System.nanoTime() + FIVE_S));
      assertEquals("after", decode(out));
    }
  }
}
