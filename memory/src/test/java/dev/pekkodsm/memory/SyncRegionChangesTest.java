package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.NODE;
import static dev.pekkodsm.memory.Frames.frame;
import static dev.pekkodsm.memory.Frames.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A region with a backup reports each change its owner makes before the change can be seen, and a
 * mirror fed only by those reports holds what the primary holds.
 */
class SyncRegionChangesTest {

  static final int CELLS = 64;
  static final long FAR = Long.MAX_VALUE;

  @TempDir Path dir;

  SnapshotArena primaryArena;
  SyncRegion primary;
  SnapshotArena mirrorArena;
  SyncRegion mirror;
  final List<String> reported = new ArrayList<>();

  /** Applies every report to the mirror, checking that the primary does not show it yet. */
  class ToMirror implements SyncRegion.Changes {
    @Override
    public boolean holds(int kind, int field, long old, long update) {
      return true;
    }

    @Override
    public boolean waits(int kind, int field, long old, long update) {
      return field == SyncLayout.WORD;
    }

    @Override
    public void fieldStands(long cell, int kind, long object, int field, long value) {
      reported.add("field " + field + " stands " + value);
      mirror.applyCellField(cell, field, value);
    }

    @Override
    public long fieldChanging(long cell, int kind, long object, int field, long old, long update) {
      if (old != update) {
        assertEquals(old, primary.load(cell, object, field, FAR), "reported before it is made");
      }
      reported.add("field " + field + " " + old + "->" + update);
      mirror.applyCellField(cell, field, update);
      return 0;
    }

    @Override
    public void fieldChanged(long ticket, long cell, int kind, long object, int field, long value) {
      assertEquals(value, primary.load(cell, object, field, FAR), "reported once made");
    }

    @Override
    public void cellAllocated(long cell, int kind, long object) {
      reported.add("cell");
      mirror.applyCellAllocated(cell, kind, object);
    }

    @Override
    public void cellFreeing(long cell) {
      reported.add("free cell");
      mirror.applyCellFreed(cell);
    }

    @Override
    public void valueWritten(long locator, int capacity, byte[] frame, int length) {
      reported.add("value");
      mirror.applyValueWrite(locator, capacity, frame, length);
    }

    @Override
    public void valueFreeing(long locator) {
      reported.add("free value");
      mirror.applyValueFree(locator);
    }
  }

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

  static void assertSameBytes(ByteBuffer a, ByteBuffer b, String what) {
    int at = a.mismatch(b);
    assertEquals(-1, at, what + " differs at byte " + at);
  }

  @Test
  void shouldKeepAMirrorFedByTheReportsEqualToThePrimary() {
    primary.replicateTo(new ToMirror());
    Random random = new Random(11);
    Map<Long, Long> live = new LinkedHashMap<>(); // cell -> object
    Map<Long, Long> values = new LinkedHashMap<>(); // value slot -> object
    for (int step = 0; step < 500; step++) {
      int op = random.nextInt(8);
      if (live.size() < 40 && (op < 2 || live.isEmpty())) {
        long object = 100 + step;
        int kind = random.nextBoolean() ? SyncLayout.KIND_ATOMIC : SyncLayout.KIND_MUTEX;
        live.put(primary.allocateCell(kind, object), object);
      } else if (op == 2) {
        long cell = new ArrayList<>(live.keySet()).get(random.nextInt(live.size()));
        primary.freeCell(cell);
        live.remove(cell);
      } else if (op == 3 && values.size() < 20) {
        long object = 5000 + step;
        byte[] f = frame("v" + step, object, 0);
        values.put(primary.allocateValue(f, f.length, f.length + random.nextInt(300)), object);
      } else if (op == 4 && !values.isEmpty()) {
        long slot = new ArrayList<>(values.keySet()).get(random.nextInt(values.size()));
        byte[] f = frame("w" + step, values.get(slot), step);
        primary.writeValue(slot, f, f.length, FAR);
      } else if (op == 5 && !values.isEmpty()) {
        long slot = new ArrayList<>(values.keySet()).get(random.nextInt(values.size()));
        primary.freeValue(slot);
        values.remove(slot);
      } else {
        long cell = new ArrayList<>(live.keySet()).get(random.nextInt(live.size()));
        long object = live.get(cell);
        int field = random.nextBoolean() ? SyncLayout.WORD : SyncLayout.LOCATOR_B;
        primary.getAndAdd(cell, object, field, random.nextInt(1000) - 500, FAR);
        long seen = primary.load(cell, object, field, FAR);
        primary.compareAndExchange(cell, object, field, seen, seen * 3, FAR);
        primary.compareAndExchange(cell, object, field, seen + 1, 0, FAR); // fails: no report
        primary.writeThenExchange(
            cell, object, SyncLayout.LOCATOR_A, new byte[0], 0, seen + 7, 1, FAR); // word moved
      }
    }
    assertSameBytes(primary.cells(), mirror.cells(), "the cells file");
    for (int i = 0; i < primary.values().segmentCount(); i++) {
      assertSameBytes(primary.values().segment(i), mirror.values().segment(i), "value segment");
    }
    assertTrue(reported.size() > 500, "every change was reported: " + reported.size());
  }

  @Test
  void shouldNotReportAFrameTheSlotRefused() {
    primary.replicateTo(new ToMirror());
    byte[] small = frame("s", 9, 0);
    long slot = primary.allocateValue(small, small.length, small.length);
    byte[] large = frame("x".repeat(4 * small.length), 9, 1);
    SyncFailedException e =
        assertThrows(
            SyncFailedException.class, () -> primary.writeValue(slot, large, large.length, FAR));
    assertEquals(SyncStatus.TOO_LARGE, e.status());
    assertEquals(List.of("value"), reported, "only the allocation was reported");
    assertSameBytes(primary.values().segment(0), mirror.values().segment(0), "value segment");
  }

  @Test
  void shouldNotChangeAFieldWhoseReportFailed() {
    long cell = primary.allocateCell(SyncLayout.KIND_ATOMIC, 7);
    primary.getAndAdd(cell, 7, SyncLayout.WORD, 5, FAR);
    primary.replicateTo(
        new ToMirror() {
          @Override
          public long fieldChanging(
              long cell, int kind, long object, int field, long old, long update) {
            throw new SyncFailedException(SyncStatus.CONTENDED, "the backup is silent");
          }
        });
    assertThrows(
        SyncFailedException.class, () -> primary.getAndAdd(cell, 7, SyncLayout.WORD, 1, FAR));
    assertThrows(
        SyncFailedException.class,
        () -> primary.compareAndExchange(cell, 7, SyncLayout.WORD, 5, 9, FAR));
    assertEquals(5, primary.load(cell, 7, SyncLayout.WORD, FAR));
  }

  @Test
  void shouldReportTheKindOfTheCellAndOneChangeOfACellAtATime() throws Exception {
    long atomic = primary.allocateCell(SyncLayout.KIND_ATOMIC, 7);
    long mutex = primary.allocateCell(SyncLayout.KIND_MUTEX, 8);
    List<Integer> kinds = new ArrayList<>();
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    int[] concurrent = {0, 0};
    primary.replicateTo(
        new ToMirror() {
          @Override
          public long fieldChanging(
              long cell, int kind, long object, int field, long old, long update) {
            synchronized (kinds) {
              kinds.add(kind);
              concurrent[0]++;
              concurrent[1] = Math.max(concurrent[1], concurrent[0]);
            }
            if (object == 7 && update == 1) {
              inside.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            synchronized (kinds) {
              concurrent[0]--;
            }
            return 0;
          }

          @Override
          public void cellAllocated(long cell, int kind, long object) {}
        });
    Thread first = new Thread(() -> primary.getAndAdd(atomic, 7, SyncLayout.WORD, 1, FAR));
    first.start();
    inside.await();
    Thread second = new Thread(() -> primary.getAndAdd(atomic, 7, SyncLayout.WORD, 2, FAR));
    second.start();
    Thread.sleep(100);
    assertEquals(
        0, primary.load(atomic, 7, SyncLayout.WORD, FAR), "nothing seen before the report");
    release.countDown();
    first.join();
    second.join();
    primary.compareAndExchange(mutex, 8, SyncLayout.WORD, 0, 4, FAR);
    assertEquals(3, primary.load(atomic, 7, SyncLayout.WORD, FAR));
    assertEquals(
        List.of(SyncLayout.KIND_ATOMIC, SyncLayout.KIND_ATOMIC, SyncLayout.KIND_MUTEX), kinds);
    assertEquals(1, concurrent[1], "changes of one cell are reported one at a time");
  }

  @Test
  void shouldMakeAChangeTheBackupDoesNotHoldAtOnceEvenWhileAReportWaits() throws Exception {
    long cell = primary.allocateCell(SyncLayout.KIND_MUTEX, 8);
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<Long> reportedUpdates = new ArrayList<>();
    primary.replicateTo(
        new ToMirror() {
          @Override
          public boolean holds(int kind, int field, long old, long update) {
            return update != 99; // 99 stands for a lock taken: not the backup's business
          }

          @Override
          public long fieldChanging(
              long cell, int kind, long object, int field, long old, long update) {
            synchronized (reportedUpdates) {
              reportedUpdates.add(update);
            }
            if (update == 5) {
              inside.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            return 0;
          }

          @Override
          public void cellAllocated(long cell, int kind, long object) {}
        });
    Thread committer =
        new Thread(() -> primary.compareAndExchange(cell, 8, SyncLayout.WORD, 0, 5, FAR));
    committer.start();
    inside.await();
    long start = System.nanoTime();
    assertEquals(0, primary.compareAndExchange(cell, 8, SyncLayout.WORD, 0, 99, FAR));
    assertTrue(System.nanoTime() - start < 1_000_000_000L, "not held up by the waiting report");
    release.countDown();
    committer.join();
    assertEquals(99, primary.load(cell, 8, SyncLayout.WORD, FAR), "the waiting change was refused");
    assertEquals(List.of(5L), reportedUpdates, "the lock taken was never reported");
  }

  @Test
  void shouldRefuseCellFieldRecordsForFreeCellsAndUnwritableFields() {
    long cell = primary.allocateCell(SyncLayout.KIND_ATOMIC, 7);
    mirror.applyCellAllocated(cell, SyncLayout.KIND_ATOMIC, 7);
    mirror.applyCellField(cell, SyncLayout.WORD, 42);
    assertEquals(42, mirror.load(cell, 7, SyncLayout.WORD, FAR));
    long other = cell + SyncLayout.CELL_BYTES;
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> mirror.applyCellField(other, SyncLayout.WORD, 1));
    assertTrue(e.getMessage().contains("not allocated"), e.getMessage());
    for (int field : new int[] {SyncLayout.KIND, SyncLayout.OBJECT, 4, 64, -8}) {
      assertThrows(IllegalArgumentException.class, () -> mirror.applyCellField(cell, field, 1));
    }
    assertThrows(IllegalArgumentException.class, () -> mirror.applyCellField(12, 0, 1));
    assertEquals(7, mirror.cells().getLong((int) cell + SyncLayout.OBJECT));
    assertThrows(IllegalStateException.class, () -> primary.applyCellField(cell, 0, 1));
    assertThrows(IllegalStateException.class, () -> mirror.replicateTo(new ToMirror()));
  }
}
