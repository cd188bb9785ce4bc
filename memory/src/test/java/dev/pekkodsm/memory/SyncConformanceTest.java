package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.NODE;
import static dev.pekkodsm.memory.Frames.decode;
import static dev.pekkodsm.memory.Frames.frame;
import static dev.pekkodsm.memory.Frames.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every transport's one-sided operations on a peer's sync region must do, run once per
 * transport by a subclass: atomicity under concurrent callers on both sides, the checks that keep
 * an operation on its own object's cell, and value slots that are never read torn.
 */
@Timeout(60)
abstract class SyncConformanceTest {

  static final long OBJECT = 0x51;

  @TempDir Path dir;

  SnapshotArena arena;
  SyncRegion region;
  private final List<AutoCloseable> resources = new ArrayList<>();

  /** Opens a peer's access to {@code arena}'s node (with its sync region) over the transport. */
  abstract PeerReader open(SnapshotArena arena, SyncRegion region) throws Exception;

  @BeforeEach
  void createRegion() {
    arena = SnapshotArena.create(settings(dir, 1 << 20, 2), NODE, CODEC);
    region = SyncRegion.create(arena, 1024);
  }

  <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }

  @AfterEach
  void close() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    region.close();
    arena.close();
  }

  static long soon() {
    return System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
  }

  @Test
  void shouldSeeEachOthersOperationsOnACell() throws Exception {
    PeerReader peer = closeLater(open(arena, region));
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    assertEquals(0, peer.load(cell, OBJECT, SyncLayout.WORD, soon()));
    assertEquals(0, peer.getAndAdd(cell, OBJECT, SyncLayout.WORD, 5, soon()));
    assertEquals(5, region.load(cell, OBJECT, SyncLayout.WORD, soon()), "the owner sees it");
    assertEquals(5, region.compareAndExchange(cell, OBJECT, SyncLayout.WORD, 5, 9, soon()));
    assertEquals(9, peer.load(cell, OBJECT, SyncLayout.WORD, soon()), "the peer sees it");
    assertEquals(
        9,
        peer.compareAndExchange(cell, OBJECT, SyncLayout.WORD, 4, 1, soon()),
        "a failed exchange returns the witness and changes nothing");
    assertEquals(9, region.load(cell, OBJECT, SyncLayout.WORD, soon()));
    peer.compareAndExchange(cell, OBJECT, SyncLayout.FULL_VERSION, 0, 77, soon());
    assertEquals(77, region.load(cell, OBJECT, SyncLayout.FULL_VERSION, soon()));
  }

  @Test
  void shouldCountExactlyUnderConcurrentAddsAndExchangesFromBothSides() throws Exception {
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    List<SyncAccess> sides = new ArrayList<>();
    sides.add(region);
    sides.add(closeLater(open(arena, region)));
    sides.add(closeLater(open(arena, region)));
    int perThread = 2_000;
    List<Thread> threads = new ArrayList<>();
    AtomicInteger failures = new AtomicInteger();
    for (SyncAccess side : sides) {
      for (int t = 0; t < 2; t++) {
        boolean viaExchange = t == 1;
        threads.add(
            new Thread(
                () -> {
                  try {
                    for (int i = 0; i < perThread; i++) {
                      if (viaExchange) {
                        long seen = side.load(cell, OBJECT, SyncLayout.WORD, soon());
                        while (true) {
                          long w =
                              side.compareAndExchange(
                                  cell, OBJECT, SyncLayout.WORD, seen, seen + 1, soon());
                          if (w == seen) {
                            break;
                          }
                          seen = w;
                        }
                      } else {
                        side.getAndAdd(cell, OBJECT, SyncLayout.WORD, 1, soon());
                      }
                    }
                  } catch (RuntimeException e) {
                    failures.incrementAndGet();
                  }
                }));
      }
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    assertEquals(0, failures.get());
    assertEquals(
        (long) threads.size() * perThread, region.load(cell, OBJECT, SyncLayout.WORD, soon()));
  }

  @Test
  void shouldRefuseOperationsOnAnotherObjectsOrAFreedCell() throws Exception {
    PeerReader peer = closeLater(open(arena, region));
    long cell = region.allocateCell(SyncLayout.KIND_MUTEX, OBJECT);
    SyncFailedException wrong =
        assertThrows(
            SyncFailedException.class,
            () -> peer.getAndAdd(cell, OBJECT + 1, SyncLayout.WORD, 1, soon()));
    assertEquals(SyncStatus.NOT_THIS_OBJECT, wrong.status());
    assertEquals(
        SyncStatus.OUT_OF_RANGE,
        assertThrows(
                SyncFailedException.class,
                () -> peer.load(cell + 8, OBJECT, SyncLayout.WORD, soon()))
            .status(),
        "not a cell");
    assertEquals(
        SyncStatus.OUT_OF_RANGE,
        assertThrows(
                SyncFailedException.class,
                () -> peer.load(1L << 40, OBJECT, SyncLayout.WORD, soon()))
            .status(),
        "outside the region");
    assertEquals(
        SyncStatus.OUT_OF_RANGE,
        assertThrows(
                SyncFailedException.class,
                () -> peer.getAndAdd(cell, OBJECT, SyncLayout.OBJECT, 1, soon()))
            .status(),
        "the cell's owner is not an operand");
    region.freeCell(cell);
    assertEquals(
        SyncStatus.NOT_THIS_OBJECT,
        assertThrows(
                SyncFailedException.class,
                () -> peer.compareAndExchange(cell, OBJECT, SyncLayout.WORD, 0, 1, soon()))
            .status(),
        "freed");
    assertEquals(0, region.liveCells());
  }

  @Test
  void shouldWriteValueSlotsOneSidedAndReadThemChecked() throws Exception {
    PeerReader peer = closeLater(open(arena, region));
    byte[] first = frame("first", OBJECT, 1);
    long slot = region.allocateValue(first, first.length, 256);
    byte[] second = frame("second value", OBJECT, 2);
    peer.writeValue(slot, second, second.length, soon());
    ReadBuffer out = new ReadBuffer(64);
    assertEquals(ReadStatus.OK, region.readValue(slot, OBJECT, 2, out, soon()));
    assertEquals("second value", decode(out));
    assertEquals(ReadStatus.OK, peer.readValue(slot, OBJECT, 2, out, soon()));
    assertEquals("second value", decode(out));
    assertEquals(
        ReadStatus.STALE,
        peer.readValue(slot, OBJECT, 1, out, soon()),
        "a color it no longer holds");
    byte[] large = frame("x".repeat(400), OBJECT, 3);
    assertEquals(
        SyncStatus.TOO_LARGE,
        assertThrows(
                SyncFailedException.class, () -> peer.writeValue(slot, large, large.length, soon()))
            .status());
    assertEquals(ReadStatus.OK, peer.readValue(slot, OBJECT, 2, out, soon()), "left intact");
    byte[] another = frame("another object's", OBJECT + 1, 1);
    assertEquals(
        SyncStatus.NOT_THIS_OBJECT,
        assertThrows(
                SyncFailedException.class,
                () -> peer.writeValue(slot, another, another.length, soon()))
            .status(),
        "a writer that lost its lock never overwrites a slot reused by another object");
    assertEquals(ReadStatus.OK, peer.readValue(slot, OBJECT, 2, out, soon()), "left intact");
    assertEquals(
        SyncStatus.OUT_OF_RANGE,
        assertThrows(
                SyncFailedException.class,
                () -> peer.writeValue(slot + 8, second, second.length, soon()))
            .status());
  }

  @Test
  void shouldReadTheSlotTheWordSelectsAndSkipAKnownVersion() throws Exception {
    PeerReader peer = closeLater(open(arena, region));
    long cell = region.allocateCell(SyncLayout.KIND_MUTEX, OBJECT);
    byte[] a = frame("in slot A", OBJECT, 1);
    byte[] b = frame("in slot B", OBJECT, 2);
    long slotA = region.allocateValue(a, a.length, 128);
    long slotB = region.allocateValue(b, b.length, 128);
    region.compareAndExchange(cell, OBJECT, SyncLayout.LOCATOR_A, 0, slotA, soon());
    region.compareAndExchange(cell, OBJECT, SyncLayout.LOCATOR_B, 0, slotB, soon());
    int bit = 33;
    long word = 5L << 40;
    region.compareAndExchange(cell, OBJECT, SyncLayout.WORD, 0, word, soon());

    ReadBuffer out = new ReadBuffer(16);
    ActiveValue first = peer.readActive(cell, OBJECT, bit, Long.MIN_VALUE, out, soon());
    assertEquals(new ActiveValue(word, 1, false, ReadStatus.OK), first);
    assertEquals("in slot A", decode(out));

    ReadBuffer untouched = new ReadBuffer(16);
    ActiveValue again = peer.readActive(cell, OBJECT, bit, 1, untouched, soon());
    assertEquals(new ActiveValue(word, 1, true, ReadStatus.OK), again, "a known version");
    assertEquals(0, untouched.length(), "is not copied");

    long flipped = word | (1L << bit);
    region.compareAndExchange(cell, OBJECT, SyncLayout.WORD, word, flipped, soon());
    ActiveValue other = peer.readActive(cell, OBJECT, bit, 1, out, soon());
    assertEquals(new ActiveValue(flipped, 2, false, ReadStatus.OK), other);
    assertEquals("in slot B", decode(out));

    assertEquals(
        SyncStatus.NOT_THIS_OBJECT,
        assertThrows(
                SyncFailedException.class,
                () -> peer.readActive(cell, OBJECT + 1, bit, 1, out, soon()))
            .status());
  }

  @Test
  void shouldExchangeTheWordThenReadTheSlotTheExpectedWordSelects() throws Exception {
    PeerReader peer = closeLater(open(arena, region));
    long cell = region.allocateCell(SyncLayout.KIND_MUTEX, OBJECT);
    byte[] a = frame("in slot A", OBJECT, 1);
    byte[] b = frame("in slot B", OBJECT, 2);
    long slotA = region.allocateValue(a, a.length, 128);
    long slotB = region.allocateValue(b, b.length, 128);
    region.compareAndExchange(cell, OBJECT, SyncLayout.LOCATOR_A, 0, slotA, soon());
    region.compareAndExchange(cell, OBJECT, SyncLayout.LOCATOR_B, 0, slotB, soon());
    int bit = 33;
    long free = 5L << 40; // selects slot A
    long held = free | 0x1234;
    region.compareAndExchange(cell, OBJECT, SyncLayout.WORD, 0, free, soon());

    ReadBuffer out = new ReadBuffer(16);
    ActiveValue locked =
        peer.exchangeThenRead(cell, OBJECT, bit, free, held, Long.MIN_VALUE, out, soon());
    assertEquals(new ActiveValue(free, 1, false, ReadStatus.OK), locked, "the witness and frame");
    assertEquals("in slot A", decode(out));
    assertEquals(held, region.load(cell, OBJECT, SyncLayout.WORD, soon()), "exchanged");

    ReadBuffer none = new ReadBuffer(16);
    ActiveValue refused =
        peer.exchangeThenRead(cell, OBJECT, bit, free, free | 0x99, Long.MIN_VALUE, none, soon());
    assertEquals(
        new ActiveValue(held, -1, false, ReadStatus.STALE),
        refused,
        "a failed exchange: the witness, nothing read");
    assertEquals(0, none.length(), "no frame");
    assertEquals(held, region.load(cell, OBJECT, SyncLayout.WORD, soon()), "not exchanged");

    long freeOnB = free | (1L << bit);
    region.compareAndExchange(cell, OBJECT, SyncLayout.WORD, held, freeOnB, soon());
    ReadBuffer untouched = new ReadBuffer(16);
    ActiveValue known =
        peer.exchangeThenRead(cell, OBJECT, bit, freeOnB, freeOnB | 0x77, 2, untouched, soon());
    assertEquals(new ActiveValue(freeOnB, 2, true, ReadStatus.OK), known, "a known version");
    assertEquals(0, untouched.length(), "is not copied");
    assertEquals(freeOnB | 0x77, region.load(cell, OBJECT, SyncLayout.WORD, soon()));

    region.compareAndExchange(cell, OBJECT, SyncLayout.WORD, freeOnB | 0x77, freeOnB, soon());
    ActiveValue other =
        peer.exchangeThenRead(cell, OBJECT, bit, freeOnB, freeOnB | 0x78, 1, out, soon());
    assertEquals(
        new ActiveValue(freeOnB, 2, false, ReadStatus.OK), other, "another version: copied");
    assertEquals("in slot B", decode(out));

    assertEquals(
        SyncStatus.NOT_THIS_OBJECT,
        assertThrows(
                SyncFailedException.class,
                () ->
                    peer.exchangeThenRead(
                        cell, OBJECT + 1, bit, freeOnB | 0x78, freeOnB, 1, out, soon()))
            .status());
    assertEquals(
        freeOnB | 0x78, region.load(cell, OBJECT, SyncLayout.WORD, soon()), "another object's");
  }

  @Test
  void shouldWriteTheSlotAFieldLocatesThenExchangeTheWord() throws Exception {
    PeerReader peer = closeLater(open(arena, region));
    long cell = region.allocateCell(SyncLayout.KIND_MUTEX, OBJECT);
    byte[] a = frame("committed", OBJECT, 1);
    long slotA = region.allocateValue(a, a.length, 128);
    long slotB = region.allocateValue(a, a.length, 128);
    region.compareAndExchange(cell, OBJECT, SyncLayout.LOCATOR_A, 0, slotA, soon());
    region.compareAndExchange(cell, OBJECT, SyncLayout.LOCATOR_B, 0, slotB, soon());
    region.compareAndExchange(cell, OBJECT, SyncLayout.WORD, 0, 7, soon());
    byte[] next = frame("next", OBJECT, 2);
    ReadBuffer out = new ReadBuffer(64);

    assertEquals(
        7,
        peer.writeThenExchange(
            cell, OBJECT, SyncLayout.LOCATOR_B, next, next.length, 7, 8, soon()));
    assertEquals(8, region.load(cell, OBJECT, SyncLayout.WORD, soon()), "exchanged");
    assertEquals(ReadStatus.OK, region.readValue(slotB, OBJECT, 2, out, soon()));
    assertEquals("next", decode(out));

    assertEquals(
        8,
        peer.writeThenExchange(cell, OBJECT, SyncLayout.LOCATOR_A, next, next.length, 7, 9, soon()),
        "a stale expectation: the witness");
    assertEquals(8, region.load(cell, OBJECT, SyncLayout.WORD, soon()), "not exchanged");
    assertEquals(ReadStatus.OK, region.readValue(slotA, OBJECT, 1, out, soon()));
    assertEquals(
        "committed",
        decode(out),
        "nor written: a holder that lost its lock must not write a slot the next holder commits");

    byte[] large = frame("x".repeat(400), OBJECT, 3);
    assertEquals(
        SyncStatus.TOO_LARGE,
        assertThrows(
                SyncFailedException.class,
                () ->
                    peer.writeThenExchange(
                        cell, OBJECT, SyncLayout.LOCATOR_A, large, large.length, 8, 9, soon()))
            .status());
    assertEquals(8, region.load(cell, OBJECT, SyncLayout.WORD, soon()), "no write, no exchange");
    assertEquals(
        SyncStatus.OUT_OF_RANGE,
        assertThrows(
                SyncFailedException.class,
                () ->
                    peer.writeThenExchange(
                        cell, OBJECT, SyncLayout.WORD, next, next.length, 8, 9, soon()))
            .status(),
        "the word is no slot locator");
    assertEquals(8, region.load(cell, OBJECT, SyncLayout.WORD, soon()));
  }

  @Test
  void shouldNeverLetAReaderSeeAHalfWrittenValue() throws Exception {
    PeerReader writer = closeLater(open(arena, region));
    PeerReader reader = closeLater(open(arena, region));
    byte[] a = frame("a".repeat(3000), OBJECT, 1);
    byte[] b = frame("b".repeat(3000), OBJECT, 1);
    long slot = region.allocateValue(a, a.length, a.length);
    AtomicBoolean done = new AtomicBoolean();
    CountDownLatch started = new CountDownLatch(1);
    Thread writing =
        new Thread(
            () -> {
              started.countDown();
              for (int i = 0; !done.get(); i++) {
                byte[] f = (i & 1) == 0 ? b : a;
                writer.writeValue(slot, f, f.length, soon());
              }
            });
    writing.start();
    started.await();
    ReadBuffer out = new ReadBuffer(64);
    int ok = 0;
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
    while (System.nanoTime() < until) {
      ReadStatus status = reader.readValue(slot, OBJECT, 1, out, soon());
      if (status == ReadStatus.OK) {
        String v = (String) decode(out);
        assertTrue(v.equals("a".repeat(3000)) || v.equals("b".repeat(3000)), "never torn");
        ok++;
      } else {
        assertEquals(ReadStatus.CONTENDED, status);
      }
    }
    done.set(true);
    writing.join();
    assertTrue(ok > 0, "reads got through");
  }

  @Test
  void shouldRefuseASecondWriterInsteadOfInterleavingIt() throws Exception {
    PeerReader peer = closeLater(open(arena, region));
    byte[] f = frame("v", OBJECT, 1);
    long slot = region.allocateValue(f, f.length, 64);
    int seqAt = (int) SlotLayout.offset(slot);
    Frames.tamper(
        arena, SyncLayout.VALUES_PREFIX, 0, raw -> raw.putLong(seqAt, 7)); // a writer inside
    long started = System.nanoTime();
    SyncFailedException e =
        assertThrows(
            SyncFailedException.class,
            () -> peer.writeValue(slot, f, f.length, System.nanoTime() + 50_000_000L));
    assertEquals(SyncStatus.CONTENDED, e.status());
    assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(1), "within its budget");
    assertFalse(
        peer.readValue(slot, OBJECT, SnapshotCodec.ANY_COLOR, new ReadBuffer(64), soon())
            == ReadStatus.OK,
        "the slot is not readable while a writer is in it");
  }
}
