package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.NODE;
import static dev.pekkodsm.memory.Frames.decode;
import static dev.pekkodsm.memory.Frames.frame;
import static dev.pekkodsm.memory.Frames.settings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.MappedByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every one-sided transport must have, run once per transport by a subclass (as
 * Netty's testsuite runs every test on every transport): reads of every size class, reads racing a
 * republishing owner, torn-read retry, corrupt, freed and reused slots, locators outside the arena,
 * and a deadline on a peer that stops answering.
 */
@Timeout(60)
abstract class TransportConformanceTest {

  @TempDir Path dir;

  private final List<AutoCloseable> resources = new ArrayList<>();

  /** Opens a reader of {@code arena}'s node through the transport under test. */
  abstract PeerReader open(SnapshotArena arena) throws Exception;

  /**
   * A reader for which the slot at {@code locator} of {@code arena} is never answered: a peer that
   * stopped answering (tcp), or a writer that stopped mid-write (shm).
   */
  abstract PeerReader unresponsive(SnapshotArena arena, long locator) throws Exception;

  /** Closes {@code resource} after the test. */
  <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }

  @AfterEach
  void closeResources() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  SnapshotArena arena(int segmentBytes, int maxSegments) {
    return closeLater(SnapshotArena.create(settings(dir, segmentBytes, maxSegments), NODE, CODEC));
  }

  static long inFiveSeconds() {
    return System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
  }

  /** Changes bytes of segment 0 behind the arena's back, as corruption or a crash would. */
  static void tamper(SnapshotArena arena, Consumer<MappedByteBuffer> change) throws Exception {
    Frames.tamper(arena, 0, change);
  }

  @Test
  void shouldReadFramesOfEverySizeClass() throws Exception {
    SnapshotArena arena = arena(4 << 20, 4);
    PeerReader reader = closeLater(open(arena));
    ReadBuffer out = new ReadBuffer(8);
    int[] sizes = {0, 1, 47, 64, 1000, 1024, 4096, 16 * 1024, 100_000, 256 * 1024, 1_000_000};
    for (int i = 0; i < sizes.length; i++) {
      byte[] value = new byte[sizes[i]];
      Arrays.fill(value, (byte) (i + 1));
      if (value.length > 0) {
        value[value.length - 1] = (byte) 0x7f;
      }
      byte[] f = frame(value, 100 + i, i);
      long locator = arena.publish(f, f.length);
      assertEquals(ReadStatus.OK, reader.read(locator, 100 + i, i, out, inFiveSeconds()));
      assertEquals(f.length, out.length());
      assertArrayEquals(value, (byte[]) decode(out), "size " + sizes[i]);
    }
  }

  @Test
  void shouldReadSegmentsTheOwnerAddsLater() throws Exception {
    SnapshotArena arena = arena(1 << 16, 4);
    PeerReader reader = closeLater(open(arena));
    byte[] f = frame(new byte[20_000], 1, 0);
    List<Long> locators = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      locators.add(arena.publish(f, f.length));
    }
    assertTrue(arena.segmentCount() > 1);
    ReadBuffer out = new ReadBuffer(8);
    for (long locator : locators) {
      assertEquals(ReadStatus.OK, reader.read(locator, 1, 0, out, inFiveSeconds()));
    }
  }

  @Test
  void shouldTellFreedReusedAndOutOfRangeSlotsApart() throws Exception {
    SnapshotArena arena = arena(1 << 20, 2);
    PeerReader reader = closeLater(open(arena));
    byte[] f = frame(List.of("a", "b"), 5, 2);
    long locator = arena.publish(f, f.length);
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.OK, reader.read(locator, 5, 2, out, inFiveSeconds()));
    assertEquals(List.of("a", "b"), decode(out));
    assertEquals(ReadStatus.STALE, reader.read(locator, 5, 3, out, inFiveSeconds()));
    assertEquals(ReadStatus.STALE, reader.read(locator, 6, 2, out, inFiveSeconds()));
    arena.free(locator);
    assertEquals(ReadStatus.FREED, reader.read(locator, 5, 2, out, inFiveSeconds()));
    byte[] g = frame(List.of("c"), 6, 0);
    long reused = arena.publish(g, g.length);
    assertEquals(locator, reused, "the freed slot is reused");
    assertEquals(ReadStatus.STALE, reader.read(locator, 5, 2, out, inFiveSeconds()));
    assertEquals(ReadStatus.OK, reader.read(reused, 6, 0, out, inFiveSeconds()));
    long[] outside = {
      SlotLayout.locator(1, 4096), // a segment the arena does not have (yet)
      SlotLayout.locator(9, 4096), // past maxSegments
      SlotLayout.locator(0, 100), // inside the segment header
      SlotLayout.locator(0, 4096 + 8), // not slot-aligned
      SlotLayout.locator(0, (1 << 20) - 16), // a header that would run off the segment
      SlotLayout.locator(0, 1L << 40), // far past the segment
      -1L
    };
    for (long bad : outside) {
      assertEquals(
          ReadStatus.OUT_OF_RANGE,
          reader.read(bad, 5, 2, out, inFiveSeconds()),
          Long.toHexString(bad));
    }
    assertEquals(ReadStatus.OK, reader.read(reused, 6, 0, out, inFiveSeconds()));
  }

  @Test
  void shouldDetectCorruptBytesInAStableSlot() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    PeerReader reader = closeLater(open(arena));
    byte[] f = frame("payload that will be damaged", 3, 0);
    long locator = arena.publish(f, f.length);
    int payloadAt = (int) SlotLayout.offset(locator) + SlotLayout.SLOT_HEADER_BYTES + 40;
    tamper(arena, raw -> raw.put(payloadAt, (byte) (raw.get(payloadAt) ^ 0x5A)));
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.CORRUPT, reader.read(locator, 3, 0, out, inFiveSeconds()));
  }

  @Test
  void shouldDetectAnImpossibleLengthWithoutCopyingIt() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    PeerReader reader = closeLater(open(arena));
    byte[] f = frame("x", 3, 0);
    long locator = arena.publish(f, f.length);
    int lengthAt = (int) SlotLayout.offset(locator) + SlotLayout.SLOT_HEADER_BYTES + 28;
    tamper(arena, raw -> raw.putInt(lengthAt, Integer.MAX_VALUE - 100));
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.CORRUPT, reader.read(locator, 3, 0, out, inFiveSeconds()));
    assertTrue(out.bytes().length < 1024, "the announced length was not allocated");
  }

  @Test
  void shouldRetryATornReadUntilTheWriterFinishes() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    PeerReader reader = closeLater(open(arena));
    byte[] f = frame("steady", 3, 0);
    long locator = arena.publish(f, f.length);
    int seqAt = (int) SlotLayout.offset(locator);
    long[] sequence = new long[1];
    tamper(
        arena,
        raw -> {
          sequence[0] = raw.getLong(seqAt);
          raw.putLong(seqAt, sequence[0] + 1); // odd: a writer is in the slot
        });
    Thread finisher =
        new Thread(
            () -> {
              try {
                Thread.sleep(2);
                tamper(arena, raw -> raw.putLong(seqAt, sequence[0] + 2));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    finisher.start();
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.OK, reader.read(locator, 3, 0, out, inFiveSeconds()));
    assertEquals("steady", decode(out));
    finisher.join();
  }

  @Test
  void shouldKeepTheDeadlineOfAPeerThatStopsAnswering() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    byte[] f = frame("x", 3, 0);
    long locator = arena.publish(f, f.length);
    PeerReader reader = closeLater(unresponsive(arena, locator));
    ReadBuffer out = new ReadBuffer(8);
    for (long deadlineMs : new long[] {2, 50, 300}) {
      long start = System.nanoTime();
      ReadStatus status =
          reader.read(locator, 3, 0, out, start + TimeUnit.MILLISECONDS.toNanos(deadlineMs));
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(
          status == ReadStatus.TIMED_OUT || status == ReadStatus.CONTENDED, "status " + status);
      assertTrue(tookMs < deadlineMs + 250, "deadline " + deadlineMs + " ms, took " + tookMs);
    }
  }

  /**
   * A writer rewrites one slot as fast as it can, alternating two frames of the same object and
   * color whose payloads differ in every byte, while readers copy it. Every completed read must be
   * one whole frame: a torn copy would fail its CRC and show as CORRUPT.
   */
  @Test
  void shouldNeverReturnATornFrameWhileTheOwnerRepublishes() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    PeerReader reader = closeLater(open(arena));
    byte[] a = new byte[4096];
    byte[] b = new byte[4096];
    Arrays.fill(a, (byte) 0x11);
    Arrays.fill(b, (byte) 0x22);
    byte[] fa = frame(a, 9, 1);
    byte[] fb = frame(b, 9, 1);
    long locator = arena.publish(fa, fa.length);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong writes = new AtomicLong();
    Thread writer =
        new Thread(
            () -> {
              boolean flip = false;
              while (!stop.get()) {
                byte[] f = flip ? fa : fb;
                arena.rewrite(locator, f, f.length);
                flip = !flip;
                writes.incrementAndGet();
                // A pause shorter than one read: readers still race the writer constantly, but on
                // two cores they also get stable windows.
                for (int spin = 0; spin < 64; spin++) {
                  Thread.onSpinWait();
                }
              }
            });
    writer.start();
    long oks = 0;
    long contended = 0;
    ReadBuffer out = new ReadBuffer(8);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    try {
      while (System.nanoTime() < until) {
        ReadStatus s = reader.read(locator, 9, 1, out, inFiveSeconds());
        if (s == ReadStatus.CONTENDED) {
          contended++;
          continue;
        }
        assertEquals(ReadStatus.OK, s);
        byte[] value = (byte[]) decode(out);
        byte first = value[0];
        assertTrue(first == 0x11 || first == 0x22);
        for (byte x : value) {
          if (x != first) {
            assertArrayEquals(a, value, "torn value");
          }
        }
        oks++;
      }
    } finally {
      stop.set(true);
      writer.join();
    }
    assertTrue(oks > 50, "reads completed: " + oks + ", contended: " + contended);
    assertTrue(writes.get() > 100, "writes: " + writes.get());
  }

  /** Several threads read different slots through one reader at once. */
  @Test
  void shouldServeConcurrentReadersOfOnePeer() throws Exception {
    SnapshotArena arena = arena(4 << 20, 1);
    PeerReader reader = closeLater(open(arena));
    int slots = 32;
    long[] locators = new long[slots];
    for (int i = 0; i < slots; i++) {
      byte[] value = new byte[64 << (i % 8)];
      Arrays.fill(value, (byte) i);
      byte[] f = frame(value, i, 0);
      locators[i] = arena.publish(f, f.length);
    }
    int threads = 8;
    List<Thread> workers = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < threads; t++) {
      int seed = t;
      Thread worker =
          new Thread(
              () -> {
                ReadBuffer out = new ReadBuffer(8);
                try {
                  for (int n = 0; n < 500; n++) {
                    int i = (seed * 7 + n) % slots;
                    assertEquals(
                        ReadStatus.OK, reader.read(locators[i], i, 0, out, inFiveSeconds()));
                    byte[] value = (byte[]) decode(out);
                    assertEquals(64 << (i % 8), value.length);
                    assertEquals((byte) i, value[value.length - 1]);
                  }
                } catch (Throwable e) {
                  failures.add(e);
                }
              });
      workers.add(worker);
      worker.start();
    }
    for (Thread worker : workers) {
      worker.join();
    }
    assertTrue(failures.isEmpty(), () -> "failures: " + failures);
  }
}
