package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.MAX_FRAME;
import static dev.pekkodsm.memory.Frames.NODE;
import static dev.pekkodsm.memory.Frames.decode;
import static dev.pekkodsm.memory.Frames.frame;
import static dev.pekkodsm.memory.Frames.settings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class ShmTransportTest {

  @TempDir Path dir;

  final ShmTransport shm = new ShmTransport(CODEC, MAX_FRAME);

  /** Changes bytes of segment 0 behind the arena's back, as corruption or a crash would. */
  static void tamper(SnapshotArena arena, java.util.function.Consumer<MappedByteBuffer> change)
      throws java.io.IOException {
    try (FileChannel ch =
        FileChannel.open(
            SnapshotArena.segmentPath(arena.folder(), 0),
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      MappedByteBuffer raw = ch.map(FileChannel.MapMode.READ_WRITE, 0, 1 << 20);
      raw.order(ByteOrder.LITTLE_ENDIAN);
      change.accept(raw);
    }
  }

  static long never() {
    return System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
  }

  @Test
  void shouldReadAPeersSnapshotThroughItsOwnMapping() throws Exception {
    try (SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 20, 4), NODE, CODEC);
        PeerReader reader = shm.open(arena.endpoint())) {
      byte[] f = frame(List.of("a", "b"), 5, 2);
      long locator = arena.publish(f, f.length);
      ReadBuffer out = new ReadBuffer(8);
      assertEquals(ReadStatus.OK, reader.read(locator, 5, 2, out, never()));
      assertEquals(List.of("a", "b"), decode(out));
      assertEquals(ReadStatus.STALE, reader.read(locator, 5, 3, out, never()));
      assertEquals(ReadStatus.STALE, reader.read(locator, 6, 2, out, never()));
      arena.free(locator);
      assertEquals(ReadStatus.FREED, reader.read(locator, 5, 2, out, never()));
      assertEquals(
          ReadStatus.OUT_OF_RANGE, reader.read(SlotLayout.locator(9, 4096), 5, 2, out, never()));
    }
  }

  @Test
  void shouldMapSegmentsThePeerAddsLater() throws Exception {
    try (SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 16, 4), NODE, CODEC);
        PeerReader reader = shm.open(arena.endpoint())) {
      byte[] f = frame(new byte[20_000], 1, 0);
      List<Long> locators = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        locators.add(arena.publish(f, f.length));
      }
      assertTrue(arena.segmentCount() > 1);
      ReadBuffer out = new ReadBuffer(8);
      for (long locator : locators) {
        assertEquals(ReadStatus.OK, reader.read(locator, 1, 0, out, never()));
      }
    }
  }

  @Test
  void shouldRefuseAnArenaWhoseTokenDoesNotMatch() {
    try (SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 16, 1), NODE, CODEC)) {
      ArenaEndpoint real = arena.endpoint();
      ArenaEndpoint impostor =
          new ArenaEndpoint(
              real.node(),
              real.directory(),
              real.tokenHi() + 1,
              real.tokenLo(),
              real.segmentBytes(),
              real.maxSegments());
      var e = assertThrows(TransportUnavailableException.class, () -> shm.open(impostor));
      assertTrue(e.getMessage().contains("another arena"), e.getMessage());
      ArenaEndpoint elsewhere =
          new ArenaEndpoint(
              real.node(),
              dir.resolve("nope").toString(),
              real.tokenHi(),
              real.tokenLo(),
              real.segmentBytes(),
              real.maxSegments());
      var e2 = assertThrows(TransportUnavailableException.class, () -> shm.open(elsewhere));
      assertTrue(e2.getMessage().contains("cannot map"), e2.getMessage());
    }
  }

  @Test
  void shouldDetectCorruptBytesInAStableSlot() throws Exception {
    try (SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 20, 1), NODE, CODEC);
        PeerReader reader = shm.open(arena.endpoint())) {
      byte[] f = frame("payload that will be damaged", 3, 0);
      long locator = arena.publish(f, f.length);
      int payloadAt = (int) SlotLayout.offset(locator) + SlotLayout.SLOT_HEADER_BYTES + 40;
      tamper(arena, raw -> raw.put(payloadAt, (byte) (raw.get(payloadAt) ^ 0x5A)));
      ReadBuffer out = new ReadBuffer(8);
      assertEquals(ReadStatus.CORRUPT, reader.read(locator, 3, 0, out, never()));
    }
  }

  @Test
  void shouldDetectAnImpossibleLengthWithoutCopyingIt() throws Exception {
    try (SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 20, 1), NODE, CODEC);
        PeerReader reader = shm.open(arena.endpoint())) {
      byte[] f = frame("x", 3, 0);
      long locator = arena.publish(f, f.length);
      int lengthAt = (int) SlotLayout.offset(locator) + SlotLayout.SLOT_HEADER_BYTES + 28;
      tamper(arena, raw -> raw.putInt(lengthAt, Integer.MAX_VALUE - 100));
      ReadBuffer out = new ReadBuffer(8);
      assertEquals(ReadStatus.CORRUPT, reader.read(locator, 3, 0, out, never()));
      assertTrue(out.bytes().length < 1024, "the announced length was not allocated");
    }
  }

  @Test
  void shouldReportContentionWhenAWriterNeverFinishes() throws Exception {
    try (SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 20, 1), NODE, CODEC);
        PeerReader reader = shm.open(arena.endpoint())) {
      byte[] f = frame("x", 3, 0);
      long locator = arena.publish(f, f.length);
      int seqAt = (int) SlotLayout.offset(locator);
      tamper(arena, raw -> raw.putLong(seqAt, 3)); // odd: a writer died mid-write
      ReadBuffer out = new ReadBuffer(8);
      long start = System.nanoTime();
      assertEquals(ReadStatus.CONTENDED, reader.read(locator, 3, 0, out, never()));
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(1));
      start = System.nanoTime();
      assertEquals(
          ReadStatus.CONTENDED, reader.read(locator, 3, 0, out, System.nanoTime() + 2_000_000L));
      assertTrue(System.nanoTime() - start < 15_000_000L, "the caller's deadline is kept");
    }
  }

  /**
   * A writer rewrites one slot as fast as it can, alternating two frames of the same object and
   * color whose payloads differ in every byte, while readers copy it. The seqlock must make every
   * completed read one whole frame: a torn copy would fail its CRC and show as CORRUPT.
   */
  @Test
  @Timeout(60)
  void shouldNeverReturnATornFrameUnderAConcurrentWriter() throws Exception {
    try (SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 20, 1), NODE, CODEC);
        PeerReader reader = shm.open(arena.endpoint())) {
      byte[] a = new byte[4096];
      byte[] b = new byte[4096];
      java.util.Arrays.fill(a, (byte) 0x11);
      java.util.Arrays.fill(b, (byte) 0x22);
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
                  // A short pause between rewrites, shorter than one read: readers still race
                  // the writer constantly, but on two cores they also get stable windows.
                  for (int spin = 0; spin < 64; spin++) {
                    Thread.onSpinWait();
                  }
                }
              });
      writer.start();
      long oks = 0;
      long contended = 0;
      ReadBuffer out = new ReadBuffer(8);
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      try {
        while (System.nanoTime() < until) {
          ReadStatus s = reader.read(locator, 9, 1, out, never());
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
  }
}
